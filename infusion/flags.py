"""The settings dataclasses as command-line flags: one ``--flag`` per field, whose help is
the field's comment in :mod:`infusion.settings` (the lines above it and the one beside it),
with its type, its default (given once, there) and its choices (:data:`settings.CHOICES`).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize
from functools import cache

from infusion import settings as S


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every flag's default after its help, once; "(required)" for a required flag, and no
    default for one whose absence the help explains (default None)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.required:
            return f"{text} (required)".strip()
        if action.default is None or "%(default)" in text or not action.option_strings:
            return text
        if action.default is argparse.SUPPRESS:
            return text
        return f"{text} (default: %(default)s)".strip()


@cache
def field_comments(cls) -> dict[str, str]:
    """Each field of the dataclass ``cls`` -> its comment in the source: the comment lines
    right above the field and the comment at the end of its line, joined into one text
    (an inherited field's, e.g. :class:`settings.Compute`'s, in its own class)."""
    comments = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            comments |= own_field_comments(base)
    return comments


def own_field_comments(cls) -> dict[str, str]:
    """:func:`field_comments` of the fields that the class ``cls`` itself declares."""
    source = textwrap.dedent(inspect.getsource(cls))
    lines = source.splitlines()
    trailing = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and lines[token.start[0] - 1].strip()[0] != "#":
            trailing[token.start[0]] = token.string
    (body,) = ast.parse(source).body
    comments = {}
    for node in body.body:
        if not isinstance(node, ast.AnnAssign):
            continue
        above, row = [], node.lineno - 1
        while row >= 1 and lines[row - 1].strip().startswith("#"):
            above.insert(0, lines[row - 1].strip())
            row -= 1
        parts = [*above, trailing.get(node.end_lineno, "")]
        text = " ".join(p.lstrip("#").strip() for p in parts if p.lstrip("#").strip())
        comments[node.target.id] = text.replace("# fmt: skip", "").replace("%", "%%")
    return comments


def parse_bool(text: str) -> bool:
    """'true' / 'false' (any case, as YAML and Python spell them) -> bool."""
    value = {"true": True, "false": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser, cls) -> None:
    """Add one ``--flag`` per field of ``cls``: typed and defaulted from the field, its help
    its comment (:func:`field_comments`), its choices from :data:`settings.CHOICES`."""
    comments = field_comments(cls)
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        flag = "--" + f.name.replace("_", "-")
        options = {"default": default, "help": comments.get(f.name, "")}
        if f.name in S.CHOICES:
            options["choices"] = S.CHOICES[f.name]
        if isinstance(default, list):  # of the type of its items (floats when empty)
            item = type(default[0]) if default else float
            parser.add_argument(flag, type=item, nargs="+", **options)
        elif isinstance(default, bool):
            parser.add_argument(flag, type=parse_bool, metavar="true|false", **options)
        else:
            parser.add_argument(flag, type=type(default), **options)


def from_arguments(cls, args: argparse.Namespace):
    """Build a settings dataclass from parsed arguments (validates in ``__post_init__``)."""
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})
