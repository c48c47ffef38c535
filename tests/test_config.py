"""Config ranges: the schema accepts the ends of every paper range and refuses just past them."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from infusion.study import ConfigError, validate_config

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())

# (path of the key, values inside its range, values just outside): rates lie in [0, 1]
# (footnote 2), steps and sampling steps are >= 1, variances and Parzen's sigma grid > 0.
RANGES = [
    (("grid", 1, "omega", 1), [0.0, 1.0], [-1e-9, 1.0 + 1e-9]),
    (("grid", 0, "alpha0", 0), [0.0, 1.0], [-1e-9, 1.0 + 1e-9]),
    (("final", "alpha0"), [0.0, 1.0], [-1e-9, 1.0 + 1e-9]),
    (("final", "omega"), [0.0, 1.0], [-1e-9, 1.0 + 1e-9]),
    (("grid", 1, "steps"), [1], [0]),
    (("sampling", "sampling_steps"), [1], [0]),
    (("model", "beta"), [1e-9], [0.0]),
    (("model", "variance_eps"), [1e-9], [0.0]),
    (("model", "infusion_var"), [1e-9], [0.0]),
    (("sampling", "sampling_eps"), [1e-9], [0.0]),
    (("parzen", "sigma_grid", 0), [1e-9], [0.0]),
    (("sampling_steps", "factors", 0), [1e-9, 4], [0.0]),  # a multiple of T: > 0
    (("proposal_search", "scales", 0), [1e-9, 1.5], [0.0]),  # a factor of rates: > 0
]


def with_value(path, value) -> dict:
    config = copy.deepcopy(CONFIG)
    parent = config
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return config


def test_the_study_config_is_valid():
    validate_config(copy.deepcopy(CONFIG))


@pytest.mark.parametrize("path, inside, outside", RANGES)
def test_range_ends_are_accepted_and_values_past_them_refused_naming_the_key(path, inside, outside):
    for value in inside:
        validate_config(with_value(path, value))
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    for value in outside:
        with pytest.raises(ConfigError, match=re.escape(f"config key '{name}'")):
            validate_config(with_value(path, value))


@pytest.mark.parametrize("section", ["fidelity", "verdicts", "ladder", "parzen_trust"])
def test_a_config_without_a_question_s_section_stops_naming_it(section):
    """The sections the rules read whole must be there: a config file of one's own that
    leaves one out stops with one line, not a KeyError in the middle of planning."""
    config = copy.deepcopy(CONFIG)
    del config[section]
    with pytest.raises(ConfigError, match=f"'{section}' is a required property"):
        validate_config(config)
