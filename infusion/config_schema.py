"""The study config's schema and defaults, as the settings dataclasses give them.

The schema is the packaged file (``infusion/config.schema.yaml``), which states only the
constraints a type does not, with what the settings dataclasses (:mod:`infusion.settings`)
say of each key they back written in (:func:`schema`): its default (:func:`defaults`), its
description (the field's comment, also its flag's help), its choices or its type. So a new
settings field is a config key, documented and checked, with nothing added elsewhere.
:mod:`infusion.study` fills a config's left-out keys from :func:`defaults` and the section
``compute`` (:data:`COMPUTE_KEYS`) and validates it against :func:`schema`.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from pathlib import Path

import yaml

from infusion import settings as S
from infusion.flags import field_comments

SCHEMA_FILE = Path(__file__).with_name("config.schema.yaml")

# Each config section a command's settings back -> the settings dataclass of its keys
SETTINGS_SECTIONS = {
    "model": S.ModelSettings, "training": S.TrainSettings, "evaluation": S.EvalSettings,
    "sampling": S.SampleSettings, "inpainting": S.InpaintSettings, "parzen": S.ParzenSettings,
    "inception": S.InceptionSettings, "convergence": S.ConvergenceSettings,
    "proposal_search": S.SearchSettings, "compute": S.Compute,
}  # fmt: skip
# The sections whose jobs run networks -> the keys they take from the section ``compute``
# where they do not state their own (a stage's override, e.g. ``inception.device``): those
# of their settings (a subclass of settings.Device), all of them for the grid's two
_COMPUTE = tuple(f.name for f in dataclasses.fields(S.Compute))
COMPUTE_KEYS = {
    **{
        section: tuple(f.name for f in dataclasses.fields(cls) if f.name in _COMPUTE)
        for section, cls in SETTINGS_SECTIONS.items()
        if section != "compute" and issubclass(cls, S.Device)
    },
    "grid_evaluation": _COMPUTE,
    "grid_sampling": _COMPUTE,
}
# The JSON schema type of a settings field by the Python type of its default
JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}


def defaults() -> dict[str, dict[str, object]]:
    """{section: {key: default}} of every config key a command's settings back: the defaults
    of the dataclasses of :data:`SETTINGS_SECTIONS` under their config names. The other keys
    (the grid, the data sources, the run's own sections) have no default."""

    def fields(cls, *not_keys: str) -> dict[str, object]:
        return {
            f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
            for f in dataclasses.fields(cls)
            if f.name not in not_keys
        }

    sections = {name: fields(cls) for name, cls in SETTINGS_SECTIONS.items()}
    for key in ("steps", "alpha0", "omega"):  # a run's grid point
        del sections["model"][key]
    training, evaluation = sections["training"], sections["evaluation"]
    sections["training"] = {"seeds": [training.pop("seed")], **training}  # a run per seed
    del evaluation["split"]  # the rules score both splits
    sections["evaluation"] = {"test_examples": evaluation.pop("examples"), **evaluation}
    for section, keys in COMPUTE_KEYS.items():  # the section compute's, unless stated
        for key in keys:
            sections.get(section, {}).pop(key, None)
    return sections


@functools.cache
def packaged_schema() -> dict:
    """The packaged schema file as read, parsed once per process (parsing it is nine tenths
    of a validation); callers copy it before writing into it."""
    return yaml.safe_load(SCHEMA_FILE.read_text())


def schema() -> dict:
    """The packaged schema with what the settings dataclasses say of each key they back
    written in, so that a settings field is a config key with nothing added to the schema
    file: its ``default`` (:func:`defaults`), and where the schema file leaves them out, its
    description (the field's comment, :func:`infusion.flags.field_comments`), its choices
    (``enum``, :data:`infusion.settings.CHOICES`) or else the type of its default. A section
    that shares its keys' definition (``allOf`` a ``$defs`` entry) gets them there."""
    tree = copy.deepcopy(packaged_schema())
    for section, values in defaults().items():
        properties = tree["properties"][section].setdefault("properties", {})
        definitions = section_properties(tree, section)
        comments = field_comments(SETTINGS_SECTIONS[section])
        for key, value in values.items():
            properties[key] = {**properties.get(key, {}), "default": value}
            entry = definitions.setdefault(key, {})
            if key in comments and comments[key]:
                entry.setdefault("description", comments[key].replace("%%", "%"))
            if not entry.keys() & {"type", "$ref", "enum", "oneOf", "anyOf", "allOf"}:
                if key in S.CHOICES:
                    entry["enum"] = list(S.CHOICES[key])
                else:
                    entry["type"] = JSON_TYPES[type(value)]
    for section, keys in COMPUTE_KEYS.items():
        for key in keys:
            entry = section_properties(tree, section).setdefault(key, {})
            entry.setdefault("description", f"this section's compute.{key}, where it is given")
    return tree


def section_properties(tree: dict, section: str) -> dict:
    """The ``properties`` of a section's keys in the schema ``tree``: its own, or those of
    the ``$defs`` entry it shares (``allOf`` a ``$ref``)."""
    node = tree["properties"][section]
    shared = [part["$ref"] for part in node.get("allOf", []) if "$ref" in part]
    if shared:
        return tree["$defs"][shared[0].split("/")[-1]].setdefault("properties", {})
    return node.setdefault("properties", {})
