"""Artifact ``scorecard``: every paper number the study reproduced beside ours
(``scorecard.csv``), and the report's front page (``front_page.rst``,
:mod:`infusion.paper.front_page`) around it and the paper's claims.

It reads the tables of :mod:`infusion.paper.tables`: Table A.1, Table 3.1, Fig 3.4's Parzen
table and, where the study scored Inception, Table 3.2; and the study's config files, as
``infusion cost`` reads them, for its scale and the verdicts (:func:`scorecard_study`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from infusion import published as paper
from infusion import study
from infusion.paper import front_page, verdicts
from infusion.paper.artifacts import artifact, beyond_outputs
from infusion.paper.claims import CLAIM_COLUMNS
from infusion.paper.front_page import fmt
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
from infusion.runtime.reading import CorruptFile, expect_rows, read_csv
from infusion.settings import InceptionSettings

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
# With verdicts (infusion.paper.verdicts): our estimate's error, the verdict's tolerance,
# the verdict and why.
VERDICT_COLUMNS = ["estimate_error", "tolerance", "verdict", "explanation"]
# The verdicts figure, which the page links: rule verdicts draws it from scorecard.csv.
_, VERDICTS_FIGURE = beyond_outputs("verdicts")
SYMBOLS = {"alpha0": "α0", "omega": "ω"}  # a Table A.1 panel's rate, in its short label
ESTIMATORS = {"IS": "IS", "lower bound": "bound"}  # Table 3.1's, in the short labels


def _seed_cells(seeds, mean: float, std: float) -> dict:
    return {"seeds": seeds, "seed_mean": mean, "seed_std": std}


def _verdict_cells(
    estimate_error: float, not_run: str, row_settings: dict | None = None, trained: bool = True
) -> dict:
    """What a row's verdict needs beyond the scorecard's columns (infusion.paper.verdicts):
    our estimate's error, why the study has no run for it, its own settings against the
    paper's (key -> (ours, paper)), and whether a trained model made it (a score of real
    images has its estimate's error alone)."""
    return {
        "estimate_error": estimate_error,
        "not_run": not_run,
        "row_settings": row_settings or {},
        "trained": trained,
    }


def read_table_a_1(path: PathLike, grid_rows: int) -> pd.DataFrame:
    """``tableA.1.csv``, checked to hold ``grid_rows`` rows of the study's grid (its runs;
    a point in two panels is two rows) and a row of every point of the paper's Table A.1, as
    :func:`infusion.paper.tables.table_a_1` writes it (:class:`CorruptFile` else)."""
    a1 = read_table(path, TABLE_A1_COLUMNS)
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
                "label": f"A.1 ({r.panel}) T={r.steps} {SYMBOLS[rate_name(r.panel)]}={r.rate:g}",
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
                    "label": f"3.1 {'iso ' * ('isotropic' in r['model'])}"
                    f"{ESTIMATORS[r['estimator']]} {split}",
                    "paper": r[f"paper_{split}_mean"],
                    "ours": r[f"{split}_mean"],
                    "difference": r[f"{split}_difference"],
                    **_seed_cells(r["seeds"], r[f"{split}_seed_mean"], r[f"{split}_seed_std"]),
                    "note": f"std {fmt(r[f'paper_{split}_std'])} (paper), "
                    f"{fmt(r[f'{split}_std'])} (ours); "
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
            "label": "3.4 Parzen",
            "paper": r.paper_mean,
            "ours": r.mean,
            "difference": r.difference,
            **_seed_cells(r.seeds, r.seed_mean, r.seed_std),
            "note": f"stderr {fmt(r.paper_stderr)} (paper), {fmt(r.stderr)} (ours); "
            f"sigma = {r.sigma:g}, {r.samples} samples",
            **_verdict_cells(
                r.stderr,
                "the study has no Parzen estimate",
                {"parzen.sigma": (r.sigma, paper.PARZEN_SIGMA)},
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
            "label": f"3.2 {'ours' if r.model == OURS else r.model.lower()}",
            "paper": r.paper_inception_score,
            "ours": r.inception_score,
            "difference": r.difference,
            **_seed_cells(pd.NA, float("nan"), float("nan")),
            "note": f"error {fmt(r.paper_inception_score_error)} (paper), std "
            f"{fmt(r.inception_score_std)} over {r.splits} splits (ours); {r.images} images"
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
                trained=TABLE_3_2_OURS[r.model] == "samples",
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


def _with_verdicts(card: pd.DataFrame, stds: int, settings: dict) -> pd.DataFrame:
    """The card with :data:`VERDICT_COLUMNS` (infusion.paper.verdicts), judged with ``stds``
    and explained with the study's ``settings`` (config key -> value)."""
    judged = verdicts.judge(card, stds, settings)
    records = card.assign(table=card["quantity"].map(verdicts.table_of)).to_dict("records")
    explained = [
        verdicts.explanation(verdict, row, tolerance, stds, settings)
        for verdict, tolerance, row in zip(
            judged["verdict"], judged["tolerance"], records, strict=True
        )
    ]
    return card.assign(
        tolerance=judged["tolerance"], verdict=judged["verdict"], explanation=explained
    )


@dataclass(frozen=True)
class ScorecardStudy:
    """What the scorecard reads of a study (:func:`scorecard_study`): its scale, for the
    page's status; its grid's rows (a point in two panels is two), which Table A.1 must
    hold (:func:`read_table_a_1`); the verdicts' tolerance in stds (config
    ``verdicts.stds``; None where ``verdicts.enabled`` is false); and the study's value of
    every key of ``verdicts.SCALE_KEYS``, which the verdicts quote."""

    scale: front_page.Scale
    grid_rows: int
    verdict_stds: int | None
    settings: dict[str, object]


def scorecard_study(config: dict) -> ScorecardStudy:
    """What the scorecard reads of the loaded study ``config`` (:func:`infusion.study.load`)."""
    scale = front_page.Scale(
        study=config["report"]["study"],
        dataset=config["dataset"],
        epochs=config["training"]["epochs"],
        hidden=config["model"]["hidden"],
        batch_size=config["training"]["batch_size"],
        grid_points=len(study.grid_runs(config)),
        is_chains=config["evaluation"]["chains"],
        parzen_samples=config["sampling"]["samples"],
        natural=tuple(study.natural_datasets(config)),
        notes=tuple(config["report"]["notes"]),
    )
    judged = config["verdicts"]
    return ScorecardStudy(
        scale=scale,
        grid_rows=len(study.panel_runs(config)),
        verdict_stds=judged["stds"] if judged["enabled"] else None,
        settings=verdicts.study_settings(config),
    )


def _card(
    of_study: ScorecardStudy,
    table_a_1: PathLike,
    table_3_1: PathLike,
    fig_3_4: PathLike,
    table_3_2: PathLike | None,
) -> pd.DataFrame:
    """Every row of the scorecard, run or not, from the tables (Table 3.2's where given),
    judged where the study has verdicts (:data:`VERDICT_COLUMNS`)."""
    rows = [
        *_table_a_1_rows(read_table_a_1(table_a_1, of_study.grid_rows)),
        *_table_3_1_rows(read_table(table_3_1)),
        *_fig_3_4_rows(read_table(fig_3_4)),
        *_table_3_2_rows(read_table(table_3_2) if table_3_2 is not None else None),
    ]
    card = _scorecard_rows(rows)
    if of_study.verdict_stds is None:
        return card
    return _with_verdicts(card, of_study.verdict_stds, of_study.settings)


def _listed(of_study: ScorecardStudy, card: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``card`` the scorecard lists: every one with verdicts (the paper numbers
    not run are judged too), else those the study ran."""
    if of_study.verdict_stds is not None:
        return card
    return card[card["ours"].notna()].reset_index(drop=True)


def _page_sections(
    of_study: ScorecardStudy, card: pd.DataFrame, claims: PathLike | None, gap: PathLike | None
) -> list[list[str]]:
    """The front page's sections (``card``: every row, run or not): the status, the claims
    and the prediction where their files are given, the verdicts where the study has them,
    and the numbers."""
    sections = [front_page.status(of_study.scale, card)]
    if claims is not None:
        sections.append(
            front_page.claims_section(read_csv(claims, CLAIM_COLUMNS, keep_default_na=False))
        )
    if gap is not None:
        sections.append(front_page.prediction_section(read_csv(gap, front_page.GAP_READ)))
    if of_study.verdict_stds is not None:
        sections.append(
            front_page.verdict_section(
                card, of_study.verdict_stds, of_study.settings, VERDICTS_FIGURE
            )
        )
    sections.append(front_page.numbers_section(_listed(of_study, card)))
    return sections


@artifact("scorecard")
def scorecard(
    config: PathLike,
    table_a_1: PathLike,
    table_3_1: PathLike,
    fig_3_4: PathLike,
    out: PathLike,
    page_out: PathLike,
    configfile: list[PathLike] = (),
    claims: PathLike | None = None,
    table_3_2: PathLike | None = None,
    gap: PathLike | None = None,
) -> pd.DataFrame:
    """The report's front page: every reproduced paper number beside ours, for the study
    ``config`` with the overlays ``configfile`` (merged as snakemake merges them).

    Writes ``out`` (:data:`SCORECARD_COLUMNS`; the Table A.1 rows the study ran, the
    reproduced Table 3.1 rows on test then train, the Parzen row, and with ``table_3_2`` its
    Inception-score rows) and ``page_out``, the front page (:mod:`infusion.paper.front_page`):
    the status (the study's scale from its config, its training seeds those of the tables),
    the paper's claims where ``claims`` (``claims.csv``) is given, what the full study should
    find where ``gap`` (the ladder's ``gap.csv``) is, the verdicts, and the numbers the run
    produced. Returns the scorecard.

    With verdicts (config ``verdicts``), every paper number of those tables gets a verdict
    (:mod:`infusion.paper.verdicts`): the rows the study did not run join the card (Table
    A.1's skipped points, a skipped isotropic estimate, Table 3.2 without ``table_3_2``),
    with :data:`VERDICT_COLUMNS`, and the page links :data:`VERDICTS_FIGURE`.
    """
    of_study = scorecard_study(study.load(config, configfile))
    card = _card(of_study, table_a_1, table_3_1, fig_3_4, table_3_2)
    columns = SCORECARD_COLUMNS + (VERDICT_COLUMNS if of_study.verdict_stds is not None else [])
    written = write_csv(_listed(of_study, card)[columns], out)
    sections = _page_sections(of_study, card, claims, gap)
    write_text(page_out, front_page.page(of_study.scale.study, sections))
    return written
