"""The paper's tables beside ours: Table A.1 (``table_a_1``), Table 3.1 (``table_3_1``),
Fig 3.4's Parzen table (``fig_3_4``) and Table 3.2 (``table_3_2``), one tidy CSV each.

Each reads the grid's CSV (:mod:`infusion.paper.grid`) or the final model's estimates; the
published numbers come from :mod:`infusion.published`.
"""

from __future__ import annotations

import math

import pandas as pd

from infusion import published as paper
from infusion.paper.artifacts import artifact
from infusion.paper.grid import same_rate
from infusion.paper.tidy import (
    SEED_COLUMNS,
    PathLike,
    common_proposal,
    expect_split,
    one_or_more,
    read_table,
    seed_statistics,
    write_csv,
)
from infusion.runtime.reading import read_json

OURS = "Infusion training"  # the paper's name for its own model in Tables 3.1, 3.2, Fig 3.4
TABLE_A1_COLUMNS = [
    "panel", "steps", "schedule", "rate", "paper_test_lower_bound", "test_lower_bound",
    "proposal", "difference", *SEED_COLUMNS, "best_epoch",
]  # fmt: skip
# Table 3.1 rows that `infusion evaluate` reproduces -> the key of its JSON output.
TABLE_3_1_KEYS = {
    ("Infusion training + isotropic", "IS"): "iso_importance",
    ("Infusion training", "IS"): "importance",
    ("Infusion training", "lower bound"): "lower_bound",
}
# Our row beyond the paper, after the infusion IS row: the test IS under the tightest
# proposal found on validation (infusion.estimation.proposal_search)
TIGHTEST_ROW = (OURS, "IS, tightest proposal on validation")
TABLE_3_1_COLUMNS = [
    "model", "estimator", "paper_test_mean", "paper_test_std", "test_mean", "test_std",
    "paper_train_mean", "paper_train_std", "train_mean", "train_std", "test_difference",
    "train_difference", "seeds", "test_seed_mean", "test_seed_std", "train_seed_mean",
    "train_seed_std", "examples_test", "examples_train", "chains", "proposal",
]  # fmt: skip
FIG_3_4_COLUMNS = [
    "model", "paper_mean", "paper_stderr", "mean", "stderr", "difference", *SEED_COLUMNS,
    "sigma", "samples",
]  # fmt: skip
# the objectives' comparison (infusion.beyond.lower_bound_training writes it, the claims read it)
OBJECTIVE_COLUMNS = [
    "point", "grid_point", "objective", "seed", "test_lower_bound", "importance_sampling",
    "proposal", "parzen", "best_epoch",
]  # fmt: skip
TABLE_3_2_COLUMNS = [
    "model", "paper_inception_score", "paper_inception_score_error", "inception_score",
    "inception_score_std", "difference", "fid", "images", "splits",
]  # fmt: skip
TABLE_3_2_OURS = {"Real data": "data", OURS: "samples"}  # row -> what its input JSON scores


def _schedule(panel: str) -> str:
    if paper.PANEL_STEPS[panel] == 1:
        return "single-step"
    return "constant" if panel in paper.CONSTANT_RATE_OPTIMA else "increasing"


@artifact("tableA.1")
def table_a_1(grid: PathLike, out: PathLike) -> pd.DataFrame:
    """Table A.1 beside ours (:data:`TABLE_A1_COLUMNS`), sorted by panel and rate.

    ``grid``: ``grid.csv``. Every row of it appears (panels (e), (f) with a NaN paper
    value), and so does every row of the paper that the study did not run, with NaN ours, so
    that the reader sees what was skipped (with the paper's step count). A study whose panel
    has another step count than the paper's (a reduced study) gets no paper value on its rows.
    """
    runs = read_table(grid)
    skipped = [
        {"panel": panel, "rate": rate, "paper_test_lower_bound": value}
        for panel, rows in paper.TABLE_A1.items()
        for rate, value in rows.items()
        if not any(
            same_rate(rate, r.rate) and r.steps == paper.PANEL_STEPS[panel]
            for r in runs[runs["panel"] == panel].itertuples()
        )
    ]
    table = pd.concat([runs, pd.DataFrame(skipped)], ignore_index=True)
    table["steps"] = table["steps"].fillna(table["panel"].map(paper.PANEL_STEPS)).astype("Int64")
    table["schedule"] = table["panel"].map(_schedule)
    table = table.astype({"best_epoch": "Int64", "seeds": "Int64"})
    table = table.sort_values(["panel", "rate"], kind="stable", ignore_index=True)
    return write_csv(table[TABLE_A1_COLUMNS], out)


@artifact("table3.1")
def table_3_1(
    test: list[PathLike], train: list[PathLike], out: PathLike, tightest: list[PathLike] = ()
) -> pd.DataFrame:
    """Table 3.1 beside ours (:data:`TABLE_3_1_COLUMNS`).

    ``test`` and ``train`` are ``infusion evaluate`` outputs of the final model on the test
    and train splits (one file, or one per training seed, first seed first): the first fills
    ``*_mean`` and ``*_std`` (over repetitions), all of them ``seeds`` and ``*_seed_mean``,
    ``*_seed_std`` (over the seeds' means). The paper's AIS rows come first with NaN ours;
    the three infusion rows take mean and std from ``iso_importance``, ``importance`` and
    ``lower_bound`` (NaN when the isotropic estimate was skipped). ``examples_*``, ``chains``
    and ``proposal`` (the name of the infusion chain q that made every estimate, one for all
    the files: :mod:`infusion.process.proposals`) describe our evaluation and are filled on
    the infusion rows only.

    With ``tightest`` (``infusion evaluate --proposal-from`` outputs on the test split, one
    per training seed, first seed first), the row :data:`TIGHTEST_ROW` follows the infusion
    IS row: their ``importance`` as the test columns, as above; no paper or train values;
    ``proposal`` the first seed's tightest proposal, or every seed's, "; "-separated, when
    they differ. The other rows keep the proposal of ``test`` and ``train``.
    """
    seed_paths = {"test": one_or_more(test), "train": one_or_more(train)}
    if len(seed_paths["test"]) != len(seed_paths["train"]):
        raise ValueError("table 3.1 needs as many test as train estimates (one per seed)")
    seed_results = {
        split: [read_json(path) for path in paths] for split, paths in seed_paths.items()
    }
    for split, found in seed_results.items():
        for path, result in zip(seed_paths[split], found, strict=True):
            expect_split(result["settings"]["split"], split, path)
    paths = {split: found[0] for split, found in seed_paths.items()}
    results = {split: found[0] for split, found in seed_results.items()}
    if results["test"]["chains"] != results["train"]["chains"]:
        raise ValueError(f"{paths['test']} and {paths['train']} use different numbers of chains")
    proposal = common_proposal(
        [r for found in seed_results.values() for r in found],
        [p for found in seed_paths.values() for p in found],
    )
    rows = []
    for model, estimator, *published in paper.TABLE_3_1:
        key = TABLE_3_1_KEYS.get((model, estimator))
        row = {"model": model, "estimator": estimator}
        for (split, result), (mean, std) in zip(
            results.items(), (published[:2], published[2:]), strict=True
        ):
            ours = result.get(key) or {}  # {} for AIS rows and a skipped isotropic estimate
            seeds = seed_statistics(
                [(r.get(key) or {}).get("mean", math.nan) for r in seed_results[split]]
            )
            row |= {
                f"paper_{split}_mean": mean,
                f"paper_{split}_std": std,
                f"{split}_mean": ours.get("mean", math.nan),
                f"{split}_std": ours.get("std", math.nan),
                f"{split}_seed_mean": seeds["seed_mean"],
                f"{split}_seed_std": seeds["seed_std"],
                "seeds": seeds["seeds"] if key else None,
                f"examples_{split}": result["examples"] if key else None,
            }
        ours = {"chains": results["test"]["chains"], "proposal": proposal} if key else {}
        rows.append(row | ours)
        if (model, estimator) == (OURS, "IS") and tightest:
            rows.append(_tightest_row(one_or_more(tightest), len(seed_paths["test"])))
    table = pd.DataFrame(rows)
    for split in paths:
        table[f"{split}_difference"] = table[f"{split}_mean"] - table[f"paper_{split}_mean"]
    table = table.astype(
        {"examples_test": "Int64", "examples_train": "Int64", "chains": "Int64", "seeds": "Int64"}
    )
    return write_csv(table[TABLE_3_1_COLUMNS], out)


def _tightest_row(paths: list[PathLike], seeds: int) -> dict:
    """Table 3.1's row :data:`TIGHTEST_ROW` from the test estimates under each seed's
    tightest proposal (see :func:`table_3_1`); the NaN columns are left out."""
    if len(paths) != seeds:
        raise ValueError(f"table 3.1 needs one tightest-proposal estimate per seed ({seeds})")
    found = [read_json(path, "settings", "importance", "proposal") for path in paths]
    for path, result in zip(paths, found, strict=True):
        expect_split(result["settings"]["split"], "test", path)
    first, names = found[0], [result["proposal"] for result in found]
    statistics = seed_statistics([result["importance"]["mean"] for result in found])
    return {
        "model": TIGHTEST_ROW[0],
        "estimator": TIGHTEST_ROW[1],
        "test_mean": first["importance"]["mean"],
        "test_std": first["importance"]["std"],
        "seeds": statistics["seeds"],
        "test_seed_mean": statistics["seed_mean"],
        "test_seed_std": statistics["seed_std"],
        "examples_test": first["examples"],
        "chains": first["chains"],
        "proposal": names[0] if len(set(names)) == 1 else "; ".join(names),
    }


@artifact("fig3.4")
def fig_3_4(parzen: list[PathLike], out: PathLike) -> pd.DataFrame:
    """The Parzen-window comparison of Fig 3.4 beside ours (:data:`FIG_3_4_COLUMNS`).

    ``parzen`` is an ``infusion parzen`` output on the test split (one file, or one per
    training seed, first seed first); the first one's mean, standard error, sigma and sample
    count fill the "Infusion training" row, all of them its seed columns; the published
    baselines keep NaN ours.
    """
    paths = one_or_more(parzen)
    found = [read_json(path, "split", "mean", "stderr", "sigma", "samples") for path in paths]
    for path, result in zip(paths, found, strict=True):
        expect_split(result["split"], "test", path)
    result = found[0]
    table = pd.DataFrame(paper.FIG_3_4, columns=["model", "paper_mean", "paper_stderr"])
    table = table.reindex(columns=FIG_3_4_COLUMNS)
    ours = table["model"] == OURS
    for column in ("mean", "stderr", "sigma", "samples"):
        table.loc[ours, column] = result[column]
    for column, value in seed_statistics([r["mean"] for r in found]).items():
        table.loc[ours, column] = value
    table["difference"] = table["mean"] - table["paper_mean"]
    table = table.astype({"samples": "Int64", "seeds": "Int64"})
    return write_csv(table[FIG_3_4_COLUMNS], out)


@artifact("table3.2")
def table_3_2(samples: PathLike, real: PathLike, out: PathLike) -> pd.DataFrame:
    """Table 3.2 beside ours (:data:`TABLE_3_2_COLUMNS`), in the paper's row order.

    ``samples`` and ``real`` are ``infusion inception`` outputs on the final CIFAR-10
    model's samples and on real CIFAR-10 images (the sanity anchor: the same code should give
    about the paper's 11.24). They fill the "Infusion training" and "Real data" rows: the
    Inception score's mean and std over splits, FID against the reference set where one was
    given (the paper predates FID: it lists none), image and split counts. Salimans et al.'s
    rows (SP, -L, -MBF) keep NaN ours. ``difference`` = ours - paper.
    """
    paths = {"samples": samples, "data": real}
    results = {kind: read_json(path) for kind, path in paths.items()}
    for kind, result in results.items():
        if kind not in result:
            raise ValueError(f"{paths[kind]} does not score {kind} (an `infusion inception` JSON)")
    rows = []
    for model, score, error in paper.TABLE_3_2:
        ours = results.get(TABLE_3_2_OURS.get(model), {})
        rows.append(
            {
                "model": model,
                "paper_inception_score": score,
                "paper_inception_score_error": error,
                "inception_score": ours.get("inception_score_mean", math.nan),
                "inception_score_std": ours.get("inception_score_std", math.nan),
                "fid": ours.get("frechet_inception_distance", math.nan),
                "images": ours.get("images"),
                "splits": ours.get("splits"),
            }
        )
    table = pd.DataFrame(rows)
    table["difference"] = table["inception_score"] - table["paper_inception_score"]
    table = table.astype({"images": "Int64", "splits": "Int64"})
    return write_csv(table[TABLE_3_2_COLUMNS], out)
