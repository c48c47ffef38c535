"""A study config: validation against the workflow's JSON schema (naming the bad key), and
which natural-image datasets it runs."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """An invalid study config; the message names the key."""


def key_path(path) -> str:
    """['grid', 0, 'omega', 1] -> 'grid[0].omega[1]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def validate_config(config: dict, schema_file: str | Path) -> None:
    """Raise :class:`ConfigError` for the most relevant schema violation of ``config``."""
    schema = yaml.safe_load(Path(schema_file).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is not None:
        raise ConfigError(f"invalid config key '{key_path(error.absolute_path)}': {error.message}")


def enabled_datasets(config: dict) -> list[str]:
    """The natural-image datasets the study runs, in the config's order.

    The entries of the config section ``natural_images`` whose key ``data.<name>.enabled`` is
    not false (a dataset without a ``data`` entry, e.g. shapes16, is enabled);
    ``data.tfd.enabled: false`` skips TFD, whose file is not public.
    """
    data = config["data"]
    return [
        name for name in config.get("natural_images", {}) if data.get(name, {}).get("enabled", True)
    ]
