"""Every table and figure of the report under one id, the name of its output file.

``@artifact("fig3.2")`` registers the function that makes an artifact; ``infusion artifact
fig3.2 --chains chains.npz --out fig3.2.png`` calls it (:func:`infusion.cli.catalogue.make`,
where every registering module is imported). The ids:

- the paper's: fig3.1, fig3.2, fig3.3, fig3.4 (its Parzen table), fig3.5 (one file per
  dataset), fig3.6, figA.1 ... figA.4, table3.1, table3.2, tableA.1, and tableA.1-images
  (Table A.1's sample means);
- the report's own: grid (grid.csv and curves.csv, which the tables and Fig A.1 read),
  runtimes, claims (the paper's claims as computed checks), scorecard (with the report's
  front page), fidelity-table and fidelity-figure;
- beyond the paper (infusion/beyond/), each a table and its figure (named by
  :func:`beyond_outputs`): convergence, lower-bound-training, sampling-steps, parzen-trust,
  verdicts (the scorecard's verdicts counted and drawn).

An id's function, and its Snakemake rule, are the id in snake_case: fig3.2 -> ``fig_3_2``,
tableA.1-images -> ``table_a_1_images``, fidelity-table -> ``fidelity_table``.

The command's flags are the function's parameters (``--curves-out`` for ``curves_out``),
named like the rule's inputs, and typed by their annotations: a path or ``str``, an
``int``, ``X | None`` (optional), ``list[X]`` (several values: ``--test A B``, or ``--test
A --test B``; one file per training seed, for instance). A parameter without a default is
a required flag.
"""

from __future__ import annotations

import argparse
import inspect
import typing
from collections.abc import Callable

ARTIFACTS: dict[str, Callable] = {}  # id -> the function that makes it


def artifact(artifact_id: str) -> Callable[[Callable], Callable]:
    """Register the decorated function as the maker of ``artifact_id``."""

    def register(function: Callable) -> Callable:
        if artifact_id in ARTIFACTS:
            raise ValueError(f"artifact {artifact_id!r} is registered twice")
        ARTIFACTS[artifact_id] = function
        return function

    return register


def beyond_outputs(artifact_id: str) -> list[str]:
    """The table and the figure of a question beyond the paper, named by its artifact id:
    ``results/tables/beyond/<id>.csv`` and ``results/figures/beyond/<id>.png``."""
    return [
        f"results/tables/beyond/{artifact_id}.csv",
        f"results/figures/beyond/{artifact_id}.png",
    ]


def argument_parser(artifact_id: str, function: Callable) -> argparse.ArgumentParser:
    """One flag per parameter of ``function``, typed by its annotation."""
    parser = argparse.ArgumentParser(
        prog=f"infusion artifact {artifact_id}",
        description=inspect.getdoc(function),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hints = typing.get_type_hints(function)
    for name, parameter in inspect.signature(function).parameters.items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(flag, dest=name, **_flag_options(hints[name], parameter.default))
    return parser


def _flag_options(hint, default) -> dict:
    if default is inspect.Parameter.empty:
        options = {"required": True}
    else:
        options = {"default": list(default) if typing.get_origin(hint) is list else default}
    if typing.get_origin(hint) is list:
        (item,) = typing.get_args(hint)
        # an optional list may be given empty: a rule's input list that expands to nothing
        nargs = "+" if default is inspect.Parameter.empty else "*"
        return options | {"nargs": nargs, "action": "extend", "type": _value_type(item)}
    return options | {"type": _value_type(hint)}


def _value_type(hint) -> type:
    """``int`` for an int (or ``int | None``), else ``str`` (paths, names)."""
    return int if int in (hint, *typing.get_args(hint)) else str
