"""The catalogue of the report: every module that registers artifacts, imported, so that
:data:`infusion.paper.artifacts.ARTIFACTS` holds them all, and the command that makes one.

(Kept apart from :mod:`infusion.paper.artifacts`, which these modules import.)
"""

from __future__ import annotations

from collections.abc import Callable

from infusion.beyond import (  # noqa: F401 (each registers its artifacts)
    convergence,
    cross_scoring,
    fidelity,
    ladder,
    lower_bound_training,
    parzen_trust,
    sampling_steps,
)
from infusion.paper import (  # noqa: F401
    claims,
    figures,
    grid,
    runtimes,
    scorecard,
    tables,
    verdicts,
)
from infusion.paper.artifacts import ARTIFACTS, argument_parser


def registered() -> dict[str, Callable]:
    """Every artifact id -> its function."""
    return ARTIFACTS


def make(artifact_id: str, argv: list[str]):
    """Make ``artifact_id`` from command-line flags (``["--out", PATH, ...]``)."""
    if artifact_id not in ARTIFACTS:
        known = ", ".join(sorted(ARTIFACTS))
        raise ValueError(f"unknown artifact {artifact_id!r}; the artifacts are {known}")
    function = ARTIFACTS[artifact_id]
    return function(**vars(argument_parser(artifact_id, function).parse_args(argv)))
