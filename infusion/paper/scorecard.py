"""Artifact ``scorecard``: every paper number the study reproduced beside ours
(``scorecard.csv``), and the report's front page (``front_page.rst``) around it.

It reads the tables of :mod:`infusion.paper.tables`: Table A.1, Table 3.1, Fig 3.4's Parzen
table and, where the study scored Inception, Table 3.2.
"""

from __future__ import annotations

import pandas as pd

from infusion.paper import published as paper
from infusion.paper.artifacts import artifact
from infusion.paper.grid import rate_name
from infusion.paper.tidy import SEED_COLUMNS, PathLike, read_table, write_csv
from infusion.runtime.atomic import write_text
from infusion.settings import ModelSettings, TrainSettings

SCORECARD_COLUMNS = [
    "quantity", "paper", "ours", "difference", *SEED_COLUMNS, "within_seed_spread", "note",
]  # fmt: skip
SPREAD_STDS = 2  # a paper number lies within our seed spread: |paper - seed mean| <= 2 std


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


def _table_a_1_rows(a1: pd.DataFrame) -> list[dict]:
    rows = []
    for r in a1[a1["test_lower_bound"].notna()].itertuples():
        listed = "" if pd.notna(r.paper_test_lower_bound) else "; the paper lists no value"
        rows.append(
            {
                "quantity": f"Table A.1 ({r.panel}), test lower bound: T = {r.steps}, "
                f"{rate_name(r.panel)} = {r.rate:g} ({r.schedule})",
                "paper": r.paper_test_lower_bound,
                "ours": r.test_lower_bound,
                "difference": r.difference,
                **_seed_cells(r.seeds, r.seed_mean, r.seed_std),
                "note": f"best epoch {r.best_epoch}{listed}",
            }
        )
    return rows


def _table_3_1_rows(t31: pd.DataFrame) -> list[dict]:
    rows = []
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
    return rows


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
        }
        for r in f34[f34["mean"].notna()].itertuples()
    ]


def _table_3_2_rows(t32: pd.DataFrame) -> list[dict]:
    """The Inception scores of Table 3.2 (one final model: no seed columns)."""
    return [
        {
            "quantity": f"Table 3.2 Inception score, {r.model}",
            "paper": r.paper_inception_score,
            "ours": r.inception_score,
            "difference": r.difference,
            **_seed_cells(pd.NA, float("nan"), float("nan")),
            "note": f"error {_fmt(r.paper_inception_score_error)} (paper), std "
            f"{_fmt(r.inception_score_std)} over {r.splits} splits (ours); {r.images} images",
        }
        for r in t32[t32["inception_score"].notna()].itertuples()
    ]


def _scorecard_rows(rows: list[dict]) -> pd.DataFrame:
    """The rows as :data:`SCORECARD_COLUMNS`, with ``within_seed_spread``: whether
    |paper - seed mean| <= :data:`SPREAD_STDS` seed std, where two or more seeds ran and the
    paper lists a value (else empty).

    Rows without ours (skipped grid points, AIS baselines, a skipped isotropic estimate)
    are left out by the row builders.
    """
    card = pd.DataFrame(rows, columns=SCORECARD_COLUMNS)
    card["seeds"] = card["seeds"].astype("Int64")
    spread = card["seed_std"] * SPREAD_STDS
    within = (card["paper"] - card["seed_mean"]).abs() <= spread
    known = card["paper"].notna() & (card["seeds"] >= 2)
    card["within_seed_spread"] = within.where(known).astype("boolean")
    return card


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


def _summary_paragraph(
    study: str,
    dataset: str,
    epochs: int,
    hidden: int,
    batch_size: int,
    grid_points: int,
    is_chains: int,
    parzen_samples: int,
) -> str:
    """What this study ran, against the paper's setting (its defaults in infusion.settings)."""
    model, train = ModelSettings(), TrainSettings()
    paper_grid = sum(len(rows) for rows in paper.TABLE_A1.values())
    return (
        f"This page compares the *{_rst_escape(study)}* study with Bordes, Honari and "
        'Vincent, "Learning to Generate Samples from Noise through Infusion Training" (ICLR 2017). '
        f"The study trained on {_rst_escape(dataset)} for {epochs} epochs, "
        f"{hidden} hidden units per layer, batch size {batch_size}, over "
        f"{grid_points} grid points; importance sampling used {is_chains:,} "
        f"chains per example and the Parzen estimate {parzen_samples:,} samples. "
        f"The paper trained on full MNIST ({paper.MNIST_TRAIN_EXAMPLES:,} training images) "
        f"for up to {train.epochs:,} epochs, {model.hidden:,} hidden units, batch size "
        f"{train.batch_size:,}, over the {paper_grid} grid points of Table A.1 plus the "
        f"constant-rate grids of Fig A.1, with {paper.IS_CHAINS:,} importance-sampling chains "
        f"and {paper.PARZEN_SAMPLES:,} Parzen samples."
    )


def _rst_page(card: pd.DataFrame, study: str, summary: str, notes: list[str]) -> str:
    title = f"Infusion training: reproduction scorecard ({study} study)"
    units = "Difference = ours - paper, in nats"
    if card["quantity"].str.startswith("Table 3.2").any():
        units += " (Table 3.2's Inception scores have no unit)"
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
) -> pd.DataFrame:
    """The report's front page: every reproduced paper number beside ours.

    Writes ``out`` (:data:`SCORECARD_COLUMNS`; the Table A.1 rows the study ran, the
    reproduced Table 3.1 rows on test then train, the Parzen row, and with ``table_3_2`` its
    Inception-score rows) and ``page_out``, a reStructuredText page: a summary of the study
    (``study`` is its name, then its dataset and scale) against the paper, the scorecard,
    and the notes ``note`` (effects only the full study can show). Returns the scorecard.
    """
    rows = [
        *_table_a_1_rows(read_table(table_a_1)),
        *_table_3_1_rows(read_table(table_3_1)),
        *_fig_3_4_rows(read_table(fig_3_4)),
        *(_table_3_2_rows(read_table(table_3_2)) if table_3_2 is not None else []),
    ]
    card = _scorecard_rows(rows)
    summary = _summary_paragraph(
        study, dataset, epochs, hidden, batch_size, grid_points, is_chains, parzen_samples
    )
    page = _rst_page(card, study, summary, note)
    write_csv(card, out)
    write_text(page_out, page)
    return card
