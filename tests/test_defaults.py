"""Defaults in one place: the settings dataclasses. The schema takes them, a config that
leaves keys out gets them, and config.yaml states them except where it departs on purpose."""

import copy
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infusion import config_schema, settings, study, switches
from infusion.nets import networks
from infusion.process import proposals
from infusion.process.infusion_process import InfusionProcess

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())

# Where config.yaml departs from a settings default, and why (its comment says so too).
DEPARTURES = {
    ("training", "parzen_every"): "Fig 3.3's Parzen curve over training, every 25 epochs "
    "(ours); a bare `infusion train` skips it",
    ("parzen", "sigma_grid"): "logspace(-1, 0, 10) rounded to 4 digits, the values the "
    "study has always scored",
}


def test_config_yaml_states_every_default_but_the_listed_departures():
    departing = {
        (section, key)
        for section, values in config_schema.defaults().items()
        for key, value in values.items()
        if CONFIG[section][key] != value
    }
    assert departing == set(DEPARTURES)


# The stages that take device, precision and compile from the section compute (inception:
# its device), written out here apart from infusion.config_schema.COMPUTE_KEYS
STAGES = {
    section: ("device", "precision", "compile")
    for section in ("training", "evaluation", "grid_evaluation", "sampling", "grid_sampling",
                    "inpainting", "convergence", "proposal_search")
} | {"inception": ("device",)}  # fmt: skip


def test_a_config_without_the_defaulted_keys_is_valid_and_gets_the_defaults():
    """config.yaml with every defaulted key removed: filled in, it validates (the defaults
    lie in the schema's ranges) and is config.yaml again but for the departures."""
    stripped = copy.deepcopy(CONFIG)
    for section, values in config_schema.defaults().items():
        for key in values:
            del stripped[section][key]
    for section in ("model", "training", "sampling", "inpainting", "parzen"):
        if not stripped[section]:
            del stripped[section]  # a section wholly of defaults may be left out
    study.validate_config(stripped)
    expected = copy.deepcopy(CONFIG)
    for section, key in DEPARTURES:
        expected[section][key] = stripped[section][key]
    for section, keys in STAGES.items():  # config.yaml states them once, in compute
        for key in keys:
            expected[section][key] = CONFIG["compute"][key]
    assert stripped == expected
    assert stripped["training"]["seeds"] == [0] and stripped["evaluation"]["test_examples"] == 1000


def test_every_key_of_a_defaulted_section_is_required_or_has_a_default():
    tree = config_schema.schema()
    for section in config_schema.defaults():
        node = tree["properties"][section]
        keys = set(node.get("properties", {}))
        for part in node.get("allOf", []):
            if "$ref" in part:
                keys |= set(tree["$defs"][part["$ref"].split("/")[-1]]["properties"])
        with_default = {k for k, v in node["properties"].items() if "default" in v}
        required = set(node.get("required", []))
        if section == "evaluation":  # grid_evaluation's `examples` is merged into its keys
            keys.discard("examples")
        assert keys == with_default | required | set(STAGES.get(section, ())), section
        assert not with_default & required, section


def test_choice_names_are_defined_once_in_settings():
    assert tuple(networks.NETWORKS) == settings.NETWORKS
    process = InfusionProcess((0.1,), 1e-4)
    losses = [process.objective(name).__name__ for name in settings.OBJECTIVES]
    assert losses == ["denoising_loss", "lower_bound_loss"]
    assert tuple(proposals.INDEX_SHIFTS) == settings.RATE_INDEXINGS
    tree = config_schema.schema()
    enums = {
        ("model", "network"): settings.NETWORKS,
        ("model", "rate_index"): settings.RATE_INDEXINGS,
        ("training", "objective"): settings.OBJECTIVES,
    }
    for (section, key), names in enums.items():
        assert tuple(tree["$defs"][section]["properties"][key]["enum"]) == names
    assert tuple(tree["properties"]["parzen"]["properties"]["chain_steps"]["enum"]) == (
        settings.PARZEN_CENTRES
    )
    variants = tree["properties"]["fidelity"]["properties"]["variants"]["oneOf"][1]
    assert tuple(variants["items"]["enum"]) == switches.VARIANTS


def test_the_command_flags_default_to_the_same_values(tmp_path):
    """`infusion train --help`'s parser defaults are the dataclass defaults the config gets."""
    from infusion.cli import build_parser

    args = build_parser().parse_args(["train", "--data", "d", "--out", "o", "--checkpoint", "c"])
    defaults = config_schema.defaults()
    for field in dataclasses.fields(settings.TrainSettings):
        if field.name != "seed":
            section = "compute" if field.name in STAGES["training"] else "training"
            assert getattr(args, field.name) == defaults[section][field.name]


def test_every_stage_takes_the_compute_section_unless_it_states_its_own(tmp_path):
    """compute states device, precision and compile once; each stage of :data:`STAGES`
    gets them, but a key its section states (tiny.yaml's inception.device: cpu)."""
    overlay = tmp_path / "compute.yaml"
    overlay.write_text(yaml.safe_dump(
        {"compute": {"device": "cuda:1", "precision": "bf16", "compile": "default"},
         "evaluation": {"precision": "tf32"}}
    ))  # fmt: skip
    config = study.load(ROOT / "config.yaml", [ROOT / "workflow/configs/tiny.yaml", overlay])
    wanted = {"device": "cuda:1", "precision": "bf16", "compile": "default"}
    for section, keys in STAGES.items():
        for key in keys:
            own = {("evaluation", "precision"): "tf32", ("inception", "device"): "cpu"}
            assert config[section][key] == own.get((section, key), wanted[key]), (section, key)
    overlay.write_text(yaml.safe_dump({"compute": {"precision": "fp16"}}))
    with pytest.raises(study.ConfigError, match="'compute.precision'"):
        study.load(ROOT / "config.yaml", [overlay])


def test_settings_and_study_load_without_torch():
    code = "import sys, infusion.settings, infusion.study; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_a_settings_field_is_a_config_key_with_its_comment_choices_and_type(tmp_path):
    """The schema file states no description, choices or type of a settings field; the
    study's schema takes them from the field: its comment, settings.CHOICES, its default's
    type. A value of the wrong choice or type stops naming the key."""
    from infusion.flags import field_comments

    model = config_schema.schema()["$defs"]["model"]["properties"]
    comments = field_comments(settings.ModelSettings)
    for key in ("schedule", "rate_index", "first_rate", "channel_mask"):
        assert model[key]["description"] == comments[key]
        assert model[key]["enum"] == list(settings.CHOICES[key])
    training = config_schema.schema()["$defs"]["training"]["properties"]
    assert training["dequantize_targets"]["type"] == "boolean"
    assert training["keep"]["enum"] == ["best", "last"]
    for section, key, value in (
        ("model", "schedule", "cosine"),
        ("training", "keep", "first"),
        ("training", "dequantize_targets", "yes"),
        ("model", "beta", "big"),
    ):
        overlay = tmp_path / f"{key}.yaml"
        overlay.write_text(yaml.safe_dump({section: {key: value}}))
        with pytest.raises(study.ConfigError, match=f"'{section}.{key}'"):
            study.load(ROOT / "config.yaml", [overlay])
