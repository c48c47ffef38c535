"""Artifact ``scorecard``: every paper number the study reproduced beside ours
(``scorecard.csv``), and the report's front page (``front_page.rst``) around it.

It reads the tables of :mod:`infusion.paper.tables`: Table A.1, Table 3.1, Fig 3.4's Parzen
table and, where the study scored Inception, Table 3.2.
"""

from __future__ import annotations

import math

import pandas as pd
import yaml

from infusion.beyond import verdicts
from infusion.paper import published as paper
from infusion.paper.artifacts import artifact
from infusion.paper.grid import rate_name, same_rate
from infusion.paper.tables import (
    OURS,
    TABLE_3_1_KEYS,
    TABLE_3_2_COLUMNS,
    TABLE_3_2_OURS,
    TABLE_A1_COLUMNS,
    TIGHTEST_ROW,
)
from infusion.paper.tidy import SEED_COLUMNS, PathLike, read_table, write_csv
from infusion.runtime.atomic import write_text
from infusion.runtime.reading import CorruptFile, expect_rows
from infusion.settings import InceptionSettings, ModelSettings, ParzenSettings, TrainSettings

SCORECARD_COLUMNS = [
    "quantity", "paper", "ours", "difference", *SEED_COLUMNS, "within_seed_spread", "note",
    "proposal", "tightest", "tightest_proposal",
]  # fmt: skip
# proposal: the infusion chain q of a likelihood estimate (Table A.1, Table 3.1), by name
# (infusion.process.proposals); empty on the other rows. tightest, tightest_proposal: on
# Table 3.1's IS row on test, beside ours (the paper's procedure, which the verdict judges),
# the first seed's test IS under the tightest proposal found on validation and its name
# (Table 3.1's row TIGHTEST_ROW, where the study searched for it); empty elsewhere.
SPREAD_STDS = 2  # a paper number lies within our seed spread: |paper - seed mean| <= 2 std
# With verdicts (infusion.beyond.verdicts): our estimate's error, the verdict's tolerance,
# the verdict and why.
VERDICT_COLUMNS = ["estimate_error", "tolerance", "verdict", "explanation"]
SIGMA = ParzenSettings().sigma  # the paper's Parzen kernel width


def _fmt(value: float, signed: bool = False) -> str:
    """A number with 2 decimals (with its sign when ``signed``); NaN as an em dash."""
    if pd.isna(value):
        return "—"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _rst_escape(text: str) -> str:
    """Plain text that docutils shows verbatim (no emphasis, references or substitutions)."""
    return "".join("\\" + c if c in "\\`*_|[]" else c for c in str(text))


def _seed_cells(seeds, mean: float, std: float) -> dict:
    return {"seeds": seeds, "seed_mean": mean, "seed_std": std}


def _verdict_cells(estimate_error: float, not_run: str, row_settings: dict | None = None) -> dict:
    """What a row's verdict needs beyond the scorecard's columns (infusion.beyond.verdicts):
    our estimate's error, why the study has no run for it, its own settings against the
    paper's (key -> (ours, paper))."""
    return {
        "estimate_error": estimate_error,
        "not_run": not_run,
        "row_settings": row_settings or {},
    }


def read_table_a_1(path: PathLike, grid_rows: int | None = None) -> pd.DataFrame:
    """``tableA.1.csv``; with ``grid_rows`` (the workflow's), checked to hold that many rows
    of the study's grid and a row of every point of the paper's Table A.1, as
    :func:`infusion.paper.tables.table_a_1` writes it (:class:`CorruptFile` else)."""
    a1 = read_table(path, TABLE_A1_COLUMNS)
    if grid_rows is None:
        return a1
    expect_rows(path, a1[a1["best_epoch"].notna()], grid_rows, "the grid's runs")
    for panel, rows in paper.TABLE_A1.items():
        at_paper_steps = a1[(a1["panel"] == panel) & (a1["steps"] == paper.PANEL_STEPS[panel])]
        for rate in rows:
            if not any(same_rate(rate, found) for found in at_paper_steps["rate"]):
                raise CorruptFile(path, f"no row of the paper's point ({panel}) rate {rate:g}")
    return a1


def _table_a_1_rows(a1: pd.DataFrame) -> list[dict]:
    """Every row of Table A.1: the study's runs, and the paper's points it did not run."""
    ran = a1[a1["test_lower_bound"].notna()]
    panel_steps = ran.groupby("panel")["steps"].first()
    rows = []
    for r in a1.itertuples():
        listed = "" if pd.notna(r.paper_test_lower_bound) else "; the paper lists no value"
        if r.panel in panel_steps and panel_steps[r.panel] != r.steps:
            steps = panel_steps[r.panel]
            not_run = f"the study's panel ({r.panel}) has {steps} steps (config grid)"
        else:
            not_run = f"the study's grid leaves this point out (config grid, panel {r.panel})"
        rows.append(
            {
                "quantity": f"Table A.1 ({r.panel}), test lower bound: T = {r.steps}, "
                f"{rate_name(r.panel)} = {r.rate:g} ({r.schedule})",
                "paper": r.paper_test_lower_bound,
                "ours": r.test_lower_bound,
                "difference": r.difference,
                **_seed_cells(r.seeds, r.seed_mean, r.seed_std),
                "note": f"best epoch {r.best_epoch}{listed}" if pd.notna(r.best_epoch) else "",
                "proposal": r.proposal,
                # the grid's bound is one pass over the test set: the table carries no error
                **_verdict_cells(math.nan, not_run),
            }
        )
    return rows


def _table_3_1_rows(t31: pd.DataFrame) -> list[dict]:
    """Table 3.1's infusion rows on test then train (not the AIS baselines, nor our row
    beyond the paper: its test IS fills the IS row's ``tightest`` columns)."""
    pairs = list(zip(t31["model"], t31["estimator"], strict=True))
    ours = [pair in TABLE_3_1_KEYS for pair in pairs]
    tightest = t31[[pair == TIGHTEST_ROW for pair in pairs]].to_dict("records")
    rows = []
    for split in ("test", "train"):
        for r in t31[ours].to_dict("records"):
            examples = {
                f"evaluation.{split}_examples": (
                    r[f"examples_{split}"],
                    paper.TABLE_3_1_EXAMPLES[split],
                )
            }
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
                    "proposal": r["proposal"],
                    **_tightest_cells(tightest, r, split),
                    **_verdict_cells(
                        r[f"{split}_std"],
                        "the study skips the isotropic estimate (evaluation.isotropic_examples: 0)",
                        examples,
                    ),
                }
            )
    return rows


def _tightest_cells(tightest: list[dict], row: dict, split: str) -> dict:
    """``tightest`` and ``tightest_proposal`` of a Table 3.1 row on ``split``: those of our
    row :data:`TIGHTEST_ROW` (``tightest``: none or it) on the test IS row, else empty."""
    if not tightest or split != "test" or (row["model"], row["estimator"]) != (OURS, "IS"):
        return {"tightest": math.nan, "tightest_proposal": None}
    (found,) = tightest
    return {"tightest": found["test_mean"], "tightest_proposal": found["proposal"]}


def _fig_3_4_rows(f34: pd.DataFrame) -> list[dict]:
    return [
        {
            "quantity": f"Fig 3.4 Parzen estimate, {r.model} (test)",
            "paper": r.paper_mean,
            "ours": r.mean,
            "difference": r.difference,
            **_seed_cells(r.seeds, r.seed_mean, r.seed_std),
            "note": f"stderr {_fmt(r.paper_stderr)} (paper), {_fmt(r.stderr)} (ours); "
            f"sigma = {r.sigma:g}, {r.samples} samples",
            **_verdict_cells(
                r.stderr, "the study has no Parzen estimate", {"parzen.sigma": (r.sigma, SIGMA)}
            ),
        }
        for r in f34[f34["model"] == OURS].itertuples()
    ]


def _table_3_2_rows(t32: pd.DataFrame | None) -> list[dict]:
    """The Inception scores of Table 3.2 that the study scores (one final model: no seed
    columns); without ``t32`` (no CIFAR-10 model), the paper's with NaN ours."""
    if t32 is None:
        columns = ["model", "paper_inception_score", "paper_inception_score_error"]
        t32 = pd.DataFrame(paper.TABLE_3_2, columns=columns).reindex(columns=TABLE_3_2_COLUMNS)
    inception = InceptionSettings()
    return [
        {
            "quantity": f"Table 3.2 Inception score, {r.model}",
            "paper": r.paper_inception_score,
            "ours": r.inception_score,
            "difference": r.difference,
            **_seed_cells(pd.NA, float("nan"), float("nan")),
            "note": f"error {_fmt(r.paper_inception_score_error)} (paper), std "
            f"{_fmt(r.inception_score_std)} over {r.splits} splits (ours); {r.images} images"
            if pd.notna(r.inception_score)
            else "",
            **_verdict_cells(
                r.inception_score_std,
                "no Table 3.2: the study runs no dataset for natural_outputs.table3.2 "
                "(the paper: cifar10)",
                {
                    "inception.images": (r.images, inception.images),
                    "inception.splits": (r.splits, inception.splits),
                },
            ),
        }
        for r in t32[t32["model"].isin(list(TABLE_3_2_OURS))].itertuples()
    ]


def _scorecard_rows(rows: list[dict]) -> pd.DataFrame:
    """The rows as :data:`SCORECARD_COLUMNS` (and the verdicts' cells), with
    ``within_seed_spread``: whether |paper - seed mean| <= :data:`SPREAD_STDS` seed std,
    where two or more seeds ran and the paper lists a value (else empty)."""
    card = pd.DataFrame(rows)
    card["seeds"] = card["seeds"].astype("Int64")
    spread = card["seed_std"] * SPREAD_STDS
    within = (card["paper"] - card["seed_mean"]).abs() <= spread
    known = card["paper"].notna() & (card["seeds"] >= 2)
    card["within_seed_spread"] = within.where(known).astype("boolean")
    return card


def _with_verdicts(card: pd.DataFrame, stds: int, study: dict) -> pd.DataFrame:
    """The card with :data:`VERDICT_COLUMNS` (infusion.beyond.verdicts)."""
    judged = verdicts.judge(card, stds)
    records = card.assign(table=card["quantity"].map(verdicts.table_of)).to_dict("records")
    explained = [
        verdicts.explanation(verdict, row, tolerance, stds, study)
        for verdict, tolerance, row in zip(
            judged["verdict"], judged["tolerance"], records, strict=True
        )
    ]
    return card.assign(
        tolerance=judged["tolerance"], verdict=judged["verdict"], explanation=explained
    )


def _study_settings(summary: dict, setting: list[str]) -> dict:
    """Config key -> the study's value of every key of verdicts.SCALE_KEYS: the summary's
    (``summary``, the scorecard's parameters) and ``setting`` (``KEY=VALUE``, YAML values)."""
    values = {key: summary[name] for name, key in verdicts.SUMMARY_KEYS.items()}
    for entry in setting:
        key, sep, value = entry.partition("=")
        if not sep or key not in verdicts.SETTING_KEYS:
            known = ", ".join(verdicts.SETTING_KEYS)
            raise ValueError(f"--setting expects KEY=VALUE with KEY one of {known}: {entry!r}")
        values[key] = yaml.safe_load(value)
    missing = [key for key in verdicts.SETTING_KEYS if key not in values]
    if missing:
        raise ValueError(f"the verdicts need --setting KEY=VALUE for {', '.join(missing)}")
    return values


def _rst_table(card: pd.DataFrame) -> str:
    """The scorecard as an rst ``list-table``, numbers with 2 decimals (and its verdicts,
    and where the study searched for it, the estimate under the tightest proposal)."""
    judged = "verdict" in card.columns
    searched = card["tightest"].notna().any()
    header = ["Quantity", "Paper", "Ours", "Difference", *(["Verdict"] if judged else []),
              *(["Tightest proposal"] if searched else []), "Note"]  # fmt: skip
    body = [
        [r.quantity, _fmt(r.paper), _fmt(r.ours), _fmt(r.difference, signed=True),
         *([r.verdict or "—"] if judged else []),
         *([_fmt(r.tightest) + (f" ({r.tightest_proposal})" if pd.notna(r.tightest) else "")]
           if searched else []),
         r.note]
        for r in card.fillna({"verdict": ""}).itertuples()
    ]  # fmt: skip
    widths = {
        (True, False): "36 9 9 9 13 24",
        (False, False): "40 10 10 10 30",
        (True, True): "30 8 8 8 12 14 20",
        (False, True): "34 9 9 9 14 25",
    }[judged, searched]
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for cells in [header, *body]:
        first, *rest = (_rst_escape(c) for c in cells)
        lines += [f"   * - {first}", *(f"     - {c}" for c in rest)]
    return "\n".join(lines)


def _verdict_section(card: pd.DataFrame, stds: int, study: dict) -> list[str]:
    """The front page's account of the verdicts: the rule, the counts, and per table the
    study's settings that differ from the paper's."""
    total = verdicts.verdict_counts(card).set_index("table").loc["all"]
    tables = [t for t in verdicts.TABLES if card["quantity"].str.startswith(t).any()]
    settings = [
        f"- {t}: {_rst_escape('; '.join(verdicts.scale_differences(t, study, {})) or 'none')}"
        for t in tables
    ]
    return [
        "Verdicts",
        "--------",
        "",
        f"{total['reproduced']} reproduced, {total['differs']} differ, "
        f"{total['not_run_at_this_scale']} not run at this scale, of {total['rows']} paper "
        f"numbers. Reproduced: abs(paper - ours) <= {stds} x sqrt(seed std^2 + error^2), ours "
        "being the seed mean and error our estimate's own (Table 3.1: std over repetitions; "
        "Fig 3.4: standard error; Table 3.2: std over splits; Table A.1: none); with one "
        "seed, the estimate's error alone. Differs by X: X = ours - paper. The study's "
        "settings that differ from the paper's, by table (scorecard.csv's explanation "
        "column gives each row's):",
        "",
        *settings,
        "",
    ]


def _summary_paragraph(study: str, scale: dict) -> str:
    """What the study ``study`` ran (``scale``: the scorecard's parameters dataset ...
    parzen_samples), against the paper's setting (its defaults in infusion.settings)."""
    model, train = ModelSettings(), TrainSettings()
    paper_grid = sum(len(rows) for rows in paper.TABLE_A1.values())
    return (
        f"This page compares the *{_rst_escape(study)}* study with Bordes, Honari and "
        'Vincent, "Learning to Generate Samples from Noise through Infusion Training" (ICLR 2017). '
        f"The study trained on {_rst_escape(scale['dataset'])} for {scale['epochs']} epochs, "
        f"{scale['hidden']} hidden units per layer, batch size {scale['batch_size']}, over "
        f"{scale['grid_points']} grid points; importance sampling used {scale['is_chains']:,} "
        f"chains per example and the Parzen estimate {scale['parzen_samples']:,} samples. "
        f"The paper trained on full MNIST ({paper.MNIST_TRAIN_EXAMPLES:,} training images) "
        f"for up to {train.epochs:,} epochs, {model.hidden:,} hidden units, batch size "
        f"{train.batch_size:,}, over the {paper_grid} grid points of Table A.1 plus the "
        f"constant-rate grids of Fig A.1, with {paper.IS_CHAINS:,} importance-sampling chains "
        f"and {paper.PARZEN_SAMPLES:,} Parzen samples."
    )


def _rst_page(
    card: pd.DataFrame, study: str, summary: str, notes: list[str], verdict_lines: list[str]
) -> str:
    title = f"Infusion training: reproduction scorecard ({study} study)"
    units = "Difference = ours - paper, in nats"
    if card["quantity"].str.startswith("Table 3.2").any():
        units += " (Table 3.2's Inception scores have no unit)"
    if card["tightest"].notna().any():
        units += (
            "; Tightest proposal: our test IS under the proposal q of the highest validation IS"
            " (named), beside ours under the paper's procedure, which the verdict judges"
        )
    sections = [
        "=" * len(title),
        title,
        "=" * len(title),
        "",
        summary,
        "",
        "Scorecard",
        "---------",
        "",
        f"{units}; — marks a value the paper does not list.",
        "",
        _rst_table(card),
        "",
        *verdict_lines,
        "What only the full study can show",
        "---------------------------------",
        "",
        *([f"- {_rst_escape(note)}" for note in notes] or ["- (none)"]),
        "",
    ]
    return "\n".join(sections)


@artifact("scorecard")
def scorecard(
    table_a_1: PathLike,
    table_3_1: PathLike,
    fig_3_4: PathLike,
    out: PathLike,
    page_out: PathLike,
    *,
    study: str,
    dataset: str,
    epochs: int,
    hidden: int,
    batch_size: int,
    grid_points: int,
    is_chains: int,
    parzen_samples: int,
    note: list[str] = (),
    table_3_2: PathLike | None = None,
    verdict_stds: int | None = None,
    setting: list[str] = (),
    grid_rows: int | None = None,
) -> pd.DataFrame:
    """The report's front page: every reproduced paper number beside ours.

    Writes ``out`` (:data:`SCORECARD_COLUMNS`; the Table A.1 rows the study ran, the
    reproduced Table 3.1 rows on test then train, the Parzen row, and with ``table_3_2`` its
    Inception-score rows) and ``page_out``, a reStructuredText page: a summary of the study
    (``study`` is its name, then its dataset and scale) against the paper, the scorecard,
    and the notes ``note`` (effects only the full study can show). Returns the scorecard.

    With ``verdict_stds`` (config verdicts.stds), every paper number of those tables gets a
    verdict (:mod:`infusion.beyond.verdicts`): the rows the study did not run join the card
    (Table A.1's skipped points, a skipped isotropic estimate, Table 3.2 without
    ``table_3_2``), with :data:`VERDICT_COLUMNS`; ``setting`` gives the study's values of
    the keys ``verdicts.SETTING_KEYS`` (``KEY=VALUE``) that the summary does not.
    ``grid_rows`` (the grid's rows: a point in two panels is two) is checked against Table
    A.1 (:func:`read_table_a_1`).
    """
    summary = {"dataset": dataset, "epochs": epochs, "hidden": hidden, "batch_size": batch_size,
               "grid_points": grid_points, "is_chains": is_chains,
               "parzen_samples": parzen_samples}  # fmt: skip
    rows = [
        *_table_a_1_rows(read_table_a_1(table_a_1, grid_rows)),
        *_table_3_1_rows(read_table(table_3_1)),
        *_fig_3_4_rows(read_table(fig_3_4)),
        *_table_3_2_rows(read_table(table_3_2) if table_3_2 is not None else None),
    ]
    card = _scorecard_rows(rows)
    if verdict_stds is None:
        card = card[card["ours"].notna()].reset_index(drop=True)[SCORECARD_COLUMNS]
        verdict_lines = []
    else:
        settings = _study_settings(summary, setting)
        card = _with_verdicts(card, verdict_stds, settings)[SCORECARD_COLUMNS + VERDICT_COLUMNS]
        verdict_lines = _verdict_section(card, verdict_stds, settings)
    page = _rst_page(card, study, _summary_paragraph(study, summary), note, verdict_lines)
    write_csv(card, out)
    write_text(page_out, page)
    return card
