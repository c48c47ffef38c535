"""Tidy tables that set each reproduced number beside the paper's, and the report's scorecard.

Results flow as in cbg-ethz/bmi: every training run leaves a small record (``summary.json``,
``metrics.csv``, ``test_bound.json``); :func:`aggregate_grid` turns the whole grid into
``grid.csv`` and ``curves.csv``; the paper-facing tables read only those files and the
evaluation JSONs; :func:`scorecard` gathers the tables into the report's front page.
The published numbers come from :mod:`infusion.paper.published`. Every file is written atomically.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from infusion.paper import published as paper
from infusion.runtime.atomic import atomic_path, write_text
from infusion.settings import ModelSettings, TrainSettings

PathLike = str | os.PathLike

RATE_TOLERANCE = 1e-9  # two rates closer than this are the same grid point
# Fig A.1 / Table A.1 panels whose varied rate is alpha0: (a) has one step, so omega is moot;
# (e) and (f) use a constant rate (omega = 0). Panels (b)-(d) vary omega.
ALPHA0_PANELS = ("a", *paper.CONSTANT_RATE_OPTIMA)
PANELS = tuple(sorted({*paper.TABLE_A1, *paper.CONSTANT_RATE_OPTIMA}))
OURS = "Infusion training"  # the paper's name for its own model in Table 3.1 and Fig 3.4
# Table 3.1 rows that `infusion evaluate` reproduces -> the key of its JSON output.
TABLE_3_1_KEYS = {
    ("Infusion training + isotropic", "IS"): "iso_importance",
    ("Infusion training", "IS"): "importance",
    ("Infusion training", "lower bound"): "lower_bound",
}
STUDY_KEYS = (
    "name", "dataset", "epochs", "hidden", "batch_size", "grid_points", "is_chains",
    "parzen_samples", "notes",
)  # fmt: skip

# Over training seeds (config training.seeds): how many, the mean and the std (ddof 1; NaN
# for one seed) of a quantity; the other columns describe the first seed's run.
SEED_COLUMNS = ["seeds", "seed_mean", "seed_std"]
GRID_COLUMNS = [
    "panel", "steps", "alpha0", "omega", "rate", "best_epoch", "best_valid_lower_bound",
    "test_lower_bound", "paper_test_lower_bound", "difference", *SEED_COLUMNS,
    "train_seconds", "run",
]  # fmt: skip
CURVE_COLUMNS = [
    "panel", "steps", "alpha0", "omega", "rate", "epoch", "train_lower_bound",
    "valid_lower_bound",
]  # fmt: skip
TABLE_A1_COLUMNS = [
    "panel", "steps", "schedule", "rate", "paper_test_lower_bound", "test_lower_bound",
    "difference", *SEED_COLUMNS, "best_epoch",
]  # fmt: skip
TABLE_3_1_COLUMNS = [
    "model", "estimator", "paper_test_mean", "paper_test_std", "test_mean", "test_std",
    "paper_train_mean", "paper_train_std", "train_mean", "train_std", "test_difference",
    "train_difference", "seeds", "test_seed_mean", "test_seed_std", "train_seed_mean",
    "train_seed_std", "examples_test", "examples_train", "chains",
]  # fmt: skip
FIG_3_4_COLUMNS = [
    "model", "paper_mean", "paper_stderr", "mean", "stderr", "difference", *SEED_COLUMNS,
    "sigma", "samples",
]  # fmt: skip
RUNTIME_COLUMNS = ["rule", "job", "seconds", "max_rss_mb"]
SCORECARD_COLUMNS = [
    "quantity", "paper", "ours", "difference", *SEED_COLUMNS, "within_seed_spread", "note",
]  # fmt: skip
SPREAD_STDS = 2  # a paper number lies within our seed spread: |paper - seed mean| <= 2 std
# Integer columns that may hold NaN (rows the study did not run): nullable in pandas.
INT_COLUMNS = (
    "steps", "best_epoch", "examples_test", "examples_train", "chains", "samples", "seeds",
)  # fmt: skip


# --- helpers ------------------------------------------------------------------------------


def _read_json(path: PathLike) -> dict:
    return json.loads(Path(path).read_text())


def _read_table(path: PathLike) -> pd.DataFrame:
    """A CSV written by this module, with its integer columns as nullable integers."""
    return pd.read_csv(path, dtype=dict.fromkeys(INT_COLUMNS, "Int64"))


def _write_csv(frame: pd.DataFrame, out: PathLike) -> pd.DataFrame:
    with atomic_path(out) as tmp:
        frame.to_csv(tmp, index=False)
    return frame


def _expect_split(found: str, expected: str, path: PathLike) -> None:
    """Guard against swapped inputs: ``path`` must hold an estimate on ``expected``."""
    if found != expected:
        raise ValueError(f"{path} scores the {found!r} split, expected {expected!r}")


def _check_panel(panel: str) -> None:
    if panel not in PANELS:
        raise ValueError(f"unknown Table A.1 panel {panel!r}; expected one of {PANELS}")


def _rate_name(panel: str) -> str:
    """The rate a panel varies: alpha0 for (a), (e), (f), omega for (b)-(d)."""
    return "alpha0" if panel in ALPHA0_PANELS else "omega"


def _schedule(panel: str) -> str:
    if paper.PANEL_STEPS[panel] == 1:
        return "single-step"
    return "constant" if panel in paper.CONSTANT_RATE_OPTIMA else "increasing"


def _same_rate(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=RATE_TOLERANCE)


def _paper_lower_bound(panel: str, steps: int, rate: float) -> float:
    """Table A.1's test lower bound at (panel, rate); NaN where the paper lists none, or
    where the study's panel has another number of steps than the paper's."""
    if steps != paper.PANEL_STEPS[panel]:
        return math.nan
    rows = paper.TABLE_A1.get(panel, {})
    return next((value for r, value in rows.items() if _same_rate(r, rate)), math.nan)


def _paths(paths: PathLike | list[PathLike]) -> list[PathLike]:
    """One path or a list of them (one per training seed, first seed first)."""
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def seed_statistics(values: list[float]) -> dict:
    """:data:`SEED_COLUMNS` of one quantity's values over training seeds."""
    series = pd.Series(values, dtype=float)
    return {"seeds": len(series), "seed_mean": series.mean(), "seed_std": series.std(ddof=1)}


def _fmt(value: float, signed: bool = False) -> str:
    """A number with 2 decimals (with its sign when ``signed``); NaN as an em dash."""
    if pd.isna(value):
        return "—"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _rst_escape(text: str) -> str:
    """Plain text that docutils shows verbatim (no emphasis, references or substitutions)."""
    return "".join("\\" + c if c in "\\`*_|[]" else c for c in str(text))


# --- Table A.1 and Fig A.1 ----------------------------------------------------------------


def _test_lower_bound(run: Path) -> float:
    bound_path = run / "test_bound.json"
    bound = _read_json(bound_path)
    _expect_split(bound["settings"]["split"], "test", bound_path)
    return bound["lower_bound"]["mean"]


def _load_run(panel: str, runs: PathLike | list[PathLike]) -> tuple[dict, pd.DataFrame]:
    """One grid row and the run's training curve, tagged with the panel's axes.

    ``runs``: the grid point's run folder, or its folders under each training seed (first
    seed first: its run fills the row and the curve, all give the seed columns)."""
    _check_panel(panel)
    run, *others = (Path(r) for r in _paths(runs))
    summary = _read_json(run / "summary.json")
    metrics = pd.read_csv(run / "metrics.csv")
    model = summary["model_settings"]
    for other in others:
        other_model = _read_json(other / "summary.json")["model_settings"]
        if other_model != model:
            raise ValueError(f"{other} is not the grid point of {run} under another seed")
    axes = {
        "panel": panel,
        "steps": model["steps"],
        "alpha0": model["alpha0"],
        "omega": model["omega"],
        "rate": model[_rate_name(panel)],
    }
    test = _test_lower_bound(run)
    reference = _paper_lower_bound(panel, axes["steps"], axes["rate"])
    row = axes | {
        "best_epoch": summary["best_epoch"],
        "best_valid_lower_bound": summary["best_valid_lower_bound"],
        "test_lower_bound": test,
        "paper_test_lower_bound": reference,
        "difference": test - reference,
        **seed_statistics([test, *(_test_lower_bound(r) for r in others)]),
        "train_seconds": summary["train_seconds"],
        "run": str(run),
    }
    curve = metrics[["epoch", "train_lower_bound", "valid_lower_bound"]].assign(**axes)
    return row, curve[CURVE_COLUMNS]


def _check_grid(grid: pd.DataFrame) -> None:
    """One step count per panel, one run per (panel, rate), omega = 0 on constant panels."""
    mixed = grid.groupby("panel")["steps"].nunique()
    if (mixed > 1).any():
        raise ValueError(f"panels mix step counts: {sorted(mixed[mixed > 1].index)}")
    for panel, rates in grid.groupby("panel")["rate"]:
        ordered = rates.sort_values().to_numpy()
        if any(_same_rate(a, b) for a, b in zip(ordered[:-1], ordered[1:], strict=True)):
            raise ValueError(f"panel {panel} has two runs at the same rate")
    constant = grid[grid["panel"].isin(list(paper.CONSTANT_RATE_OPTIMA)) & (grid["omega"] != 0)]
    if not constant.empty:
        raise ValueError(f"constant-rate panels hold runs with omega != 0: {list(constant.run)}")


def aggregate_grid(
    runs: list[tuple[str, str]], grid_out: PathLike, curves_out: PathLike
) -> pd.DataFrame:
    """Tidy the grid of training runs into ``grid.csv`` and ``curves.csv``.

    ``runs`` lists (panel letter, run folder), or (panel letter, [its folder under each
    training seed, first seed first]) for the seed columns; a run may appear under several
    panels (the omega = 0 point of a 10-step increasing grid is also the alpha0 = 0 point of the
    constant one) and then gives one row per panel. ``grid.csv`` has one row per entry
    (:data:`GRID_COLUMNS`), sorted by panel and rate, where ``rate`` is the rate the panel
    varies and ``difference`` = ours - paper (NaN where Table A.1 lists no value);
    ``curves.csv`` holds every epoch of every run (:data:`CURVE_COLUMNS`). All inputs are
    read before anything is written: a missing file raises FileNotFoundError naming it and
    leaves both outputs untouched. Returns the grid.
    """
    if not runs:
        raise ValueError("no runs to aggregate")
    loaded = [_load_run(panel, run) for panel, run in runs]
    grid = pd.DataFrame([row for row, _ in loaded], columns=GRID_COLUMNS)
    grid = grid.sort_values(["panel", "rate"], kind="stable", ignore_index=True)
    _check_grid(grid)
    curves = pd.concat([curve for _, curve in loaded])
    curves = curves.sort_values(["panel", "rate", "epoch"], kind="stable", ignore_index=True)
    _write_csv(curves, curves_out)
    return _write_csv(grid, grid_out)


def table_a1(grid_csv: PathLike, out: PathLike) -> pd.DataFrame:
    """Table A.1 beside ours (:data:`TABLE_A1_COLUMNS`), sorted by panel and rate.

    Every row of ``grid.csv`` appears (panels (e), (f) with a NaN paper value), and so does
    every row of the paper that the study did not run, with NaN ours, so that the reader sees
    what was skipped (with the paper's step count). A study whose panel has another step
    count than the paper's (a reduced study) gets no paper value on its rows.
    """
    grid = _read_table(grid_csv)
    skipped = [
        {"panel": panel, "rate": rate, "paper_test_lower_bound": value}
        for panel, rows in paper.TABLE_A1.items()
        for rate, value in rows.items()
        if not any(
            _same_rate(rate, r.rate) and r.steps == paper.PANEL_STEPS[panel]
            for r in grid[grid["panel"] == panel].itertuples()
        )
    ]
    table = pd.concat([grid, pd.DataFrame(skipped)], ignore_index=True)
    table["steps"] = table["steps"].fillna(table["panel"].map(paper.PANEL_STEPS)).astype("Int64")
    table["schedule"] = table["panel"].map(_schedule)
    table = table.astype({"best_epoch": "Int64", "seeds": "Int64"})
    table = table.sort_values(["panel", "rate"], kind="stable", ignore_index=True)
    return _write_csv(table[TABLE_A1_COLUMNS], out)


# --- Table 3.1 and Fig 3.4 ----------------------------------------------------------------


def table_3_1(
    test_json: PathLike | list[PathLike], train_json: PathLike | list[PathLike], out: PathLike
) -> pd.DataFrame:
    """Table 3.1 beside ours (:data:`TABLE_3_1_COLUMNS`).

    ``test_json`` and ``train_json`` are ``infusion evaluate`` outputs of the final model on
    the test and train splits, or lists of them, one per training seed (first seed first):
    the first fills ``*_mean`` and ``*_std`` (over repetitions), all of them ``seeds`` and
    ``*_seed_mean``, ``*_seed_std`` (over the seeds' means). The paper's AIS rows come
    first with NaN ours; the three infusion rows take mean and std from ``iso_importance``,
    ``importance`` and ``lower_bound`` (NaN when the isotropic estimate was skipped).
    ``examples_*`` and ``chains`` describe our evaluation and are filled on the infusion rows
    only.
    """
    seed_paths = {"test": _paths(test_json), "train": _paths(train_json)}
    if len(seed_paths["test"]) != len(seed_paths["train"]):
        raise ValueError("table 3.1 needs as many test as train estimates (one per seed)")
    seed_results = {
        split: [_read_json(path) for path in paths] for split, paths in seed_paths.items()
    }
    for split, found in seed_results.items():
        for path, result in zip(seed_paths[split], found, strict=True):
            _expect_split(result["settings"]["split"], split, path)
    paths = {split: found[0] for split, found in seed_paths.items()}
    results = {split: found[0] for split, found in seed_results.items()}
    if results["test"]["chains"] != results["train"]["chains"]:
        raise ValueError(f"{paths['test']} and {paths['train']} use different numbers of chains")
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
        rows.append(row | {"chains": results["test"]["chains"] if key else None})
    table = pd.DataFrame(rows)
    for split in paths:
        table[f"{split}_difference"] = table[f"{split}_mean"] - table[f"paper_{split}_mean"]
    table = table.astype(
        {"examples_test": "Int64", "examples_train": "Int64", "chains": "Int64", "seeds": "Int64"}
    )
    return _write_csv(table[TABLE_3_1_COLUMNS], out)


def fig_3_4(parzen_json: PathLike | list[PathLike], out: PathLike) -> pd.DataFrame:
    """The Parzen-window comparison of Fig 3.4 beside ours (:data:`FIG_3_4_COLUMNS`).

    ``parzen_json`` is an ``infusion parzen`` output on the test split, or a list of them,
    one per training seed (first seed first); the first one's mean, standard error, sigma
    and sample count fill the "Infusion training" row, all of them its seed columns; the
    published baselines keep NaN ours.
    """
    paths = _paths(parzen_json)
    found = [_read_json(path) for path in paths]
    for path, result in zip(paths, found, strict=True):
        _expect_split(result["split"], "test", path)
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
    return _write_csv(table[FIG_3_4_COLUMNS], out)


# --- Table 3.2 ----------------------------------------------------------------------------

TABLE_3_2_COLUMNS = [
    "model", "paper_inception_score", "paper_inception_score_error", "inception_score",
    "inception_score_std", "difference", "fid", "images", "splits",
]  # fmt: skip
TABLE_3_2_OURS = {"Real data": "data", OURS: "samples"}  # row -> what its input JSON scores


def table_3_2(samples_json: PathLike, real_json: PathLike, out: PathLike) -> pd.DataFrame:
    """Table 3.2 beside ours (:data:`TABLE_3_2_COLUMNS`), in the paper's row order.

    ``samples_json`` and ``real_json`` are ``infusion inception`` outputs on the final CIFAR-10
    model's samples and on real CIFAR-10 images (the sanity anchor: the same code should give
    about the paper's 11.24). They fill the "Infusion training" and "Real data" rows: the
    Inception score's mean and std over splits, FID against the reference set where one was
    given (the paper predates FID: it lists none), image and split counts. Salimans et al.'s
    rows (SP, -L, -MBF) keep NaN ours. ``difference`` = ours - paper.
    """
    paths = {"samples": samples_json, "data": real_json}
    results = {kind: _read_json(path) for kind, path in paths.items()}
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
    return _write_csv(table[TABLE_3_2_COLUMNS], out)


# --- runtimes -----------------------------------------------------------------------------


def _read_benchmark(path: Path) -> dict:
    """Wall time (s) and peak resident memory (MB) of one Snakemake benchmark file.

    Rows are averaged (a rule with ``repeat()`` writes several); "NA" and "-" (no data
    collected) give NaN memory.
    """
    try:
        frame = pd.read_csv(path, sep="\t", na_values=["NA", "-"])
        seconds = pd.to_numeric(frame["s"]).mean()
        rss = pd.to_numeric(frame["max_rss"]).mean()
    except (KeyError, ValueError) as err:  # pandas parser errors are ValueErrors
        raise ValueError(f"malformed Snakemake benchmark file {path}: {err!r}") from err
    if pd.isna(seconds):
        raise ValueError(f"malformed Snakemake benchmark file {path}: no running time")
    return {"rule": path.parent.name, "job": path.stem, "seconds": seconds, "max_rss_mb": rss}


def runtimes(benchmark_files: list[str], out: PathLike) -> pd.DataFrame:
    """One row per benchmark file ``.../{rule}/{job}.tsv`` (:data:`RUNTIME_COLUMNS`).

    Sorted by rule then job; a malformed file raises ValueError naming it.
    """
    rows = [_read_benchmark(Path(path)) for path in benchmark_files]
    table = pd.DataFrame(rows, columns=RUNTIME_COLUMNS)
    return _write_csv(table.sort_values(["rule", "job"], ignore_index=True), out)


# --- scorecard ----------------------------------------------------------------------------


def _scorecard_rows(a1: pd.DataFrame, t31: pd.DataFrame, f34: pd.DataFrame) -> pd.DataFrame:
    """Every paper number we reproduced, ours beside it (:data:`SCORECARD_COLUMNS`).

    Rows without ours (skipped grid points, AIS baselines, a skipped isotropic estimate)
    are left out. ``within_seed_spread``: whether |paper - seed mean| <= :data:`SPREAD_STDS`
    seed std, where two or more seeds ran and the paper lists a value (else empty).
    """
    rows = []
    for r in a1[a1["test_lower_bound"].notna()].itertuples():
        listed = "" if pd.notna(r.paper_test_lower_bound) else "; the paper lists no value"
        rows.append(
            {
                "quantity": f"Table A.1 ({r.panel}), test lower bound: T = {r.steps}, "
                f"{_rate_name(r.panel)} = {r.rate:g} ({r.schedule})",
                "paper": r.paper_test_lower_bound,
                "ours": r.test_lower_bound,
                "difference": r.difference,
                **_seed_cells(r.seeds, r.seed_mean, r.seed_std),
                "note": f"best epoch {r.best_epoch}{listed}",
            }
        )
    for split in ("test", "train"):
        for r in t31[t31[f"{split}_mean"].notna()].to_dict("records"):
            rows.append(
                {
                    "quantity": f"Table 3.1 {r['model']}, {r['estimator']} ({split})",
                    "paper": r[f"paper_{split}_mean"],
                    "ours": r[f"{split}_mean"],
                    "difference": r[f"{split}_difference"],
                    **_seed_cells(r["seeds"], r[f"{split}_seed_mean"], r[f"{split}_seed_std"]),
                    "note": f"std {_fmt(r[f'paper_{split}_std'])} (paper), "
                    f"{_fmt(r[f'{split}_std'])} (ours); "
                    f"{r[f'examples_{split}']} examples, {r['chains']} chains",
                }
            )
    for r in f34[f34["mean"].notna()].itertuples():
        rows.append(
            {
                "quantity": f"Fig 3.4 Parzen estimate, {r.model} (test)",
                "paper": r.paper_mean,
                "ours": r.mean,
                "difference": r.difference,
                **_seed_cells(r.seeds, r.seed_mean, r.seed_std),
                "note": f"stderr {_fmt(r.paper_stderr)} (paper), {_fmt(r.stderr)} (ours); "
                f"sigma = {r.sigma:g}, {r.samples} samples",
            }
        )
    card = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    spread = card["seed_std"] * SPREAD_STDS
    within = (card["paper"] - card["seed_mean"]).abs() <= spread
    known = card["paper"].notna() & (card["seeds"] >= 2)
    card["within_seed_spread"] = within.where(known).astype("boolean")
    return card


def _seed_cells(seeds, mean: float, std: float) -> dict:
    return {"seeds": seeds, "seed_mean": mean, "seed_std": std}


def _rst_table(card: pd.DataFrame) -> str:
    """The scorecard as an rst ``list-table``, numbers with 2 decimals."""
    header = ["Quantity", "Paper", "Ours", "Difference", "Note"]
    body = [
        [r.quantity, _fmt(r.paper), _fmt(r.ours), _fmt(r.difference, signed=True), r.note]
        for r in card.itertuples()
    ]
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 40 10 10 10 30", ""]
    for cells in [header, *body]:
        first, *rest = (_rst_escape(c) for c in cells)
        lines += [f"   * - {first}", *(f"     - {c}" for c in rest)]
    return "\n".join(lines)


def _summary_paragraph(study: dict) -> str:
    """What this study ran, against the paper's setting (its defaults in infusion.settings)."""
    model, train = ModelSettings(), TrainSettings()
    paper_grid = sum(len(rows) for rows in paper.TABLE_A1.values())
    return (
        f"This page compares the *{_rst_escape(study['name'])}* study with Bordes, Honari and "
        'Vincent, "Learning to Generate Samples from Noise through Infusion Training" (ICLR 2017). '
        f"The study trained on {_rst_escape(study['dataset'])} for {study['epochs']} epochs, "
        f"{study['hidden']} hidden units per layer, batch size {study['batch_size']}, over "
        f"{study['grid_points']} grid points; importance sampling used {study['is_chains']:,} "
        f"chains per example and the Parzen estimate {study['parzen_samples']:,} samples. "
        f"The paper trained on full MNIST ({paper.MNIST_TRAIN_EXAMPLES:,} training images) "
        f"for up to {train.epochs:,} epochs, {model.hidden:,} hidden units, batch size "
        f"{train.batch_size:,}, over the {paper_grid} grid points of Table A.1 plus the "
        f"constant-rate grids of Fig A.1, with {paper.IS_CHAINS:,} importance-sampling chains "
        f"and {paper.PARZEN_SAMPLES:,} Parzen samples."
    )


def _rst_page(card: pd.DataFrame, study: dict) -> str:
    title = f"Infusion training: reproduction scorecard ({study['name']} study)"
    notes = [f"- {_rst_escape(note)}" for note in study["notes"]] or ["- (none)"]
    sections = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        _summary_paragraph(study),
        "",
        "Scorecard",
        "---------",
        "",
        "Difference = ours - paper, in nats; — marks a value the paper does not list.",
        "",
        _rst_table(card),
        "",
        "What only the full study can show",
        "---------------------------------",
        "",
        *notes,
        "",
    ]
    return "\n".join(sections)


def scorecard(
    table_a1_csv: PathLike,
    table_3_1_csv: PathLike,
    fig_3_4_csv: PathLike,
    out_csv: PathLike,
    out_rst: PathLike,
    study: dict,
) -> pd.DataFrame:
    """The report's front page: every reproduced paper number beside ours.

    Writes ``out_csv`` (:data:`SCORECARD_COLUMNS`; the Table A.1 rows the study ran, the
    reproduced Table 3.1 rows on test then train, the Parzen row) and ``out_rst``, a
    reStructuredText page: a summary of the study against the paper, the scorecard, and
    ``study["notes"]`` (effects only the full study can show). ``study`` holds the keys of
    :data:`STUDY_KEYS`. Returns the scorecard frame.
    """
    missing = [key for key in STUDY_KEYS if key not in study]
    if missing:
        raise ValueError(f"study lacks {missing}")
    card = _scorecard_rows(
        _read_table(table_a1_csv), _read_table(table_3_1_csv), _read_table(fig_3_4_csv)
    )
    page = _rst_page(card, study)
    _write_csv(card, out_csv)
    write_text(out_rst, page)
    return card
