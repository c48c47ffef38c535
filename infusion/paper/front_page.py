"""The report's front page (``front_page.rst``), reStructuredText that answers first:

1. the status: what the study ran, at which scale, beside the paper's setting, and what it
   has no run for (from its own config and tables);
2. the paper's claims, one line each (``claims.csv``, :mod:`infusion.paper.claims`), and,
   where the ladder ran, what the full study should find (``gap.csv``,
   :mod:`infusion.beyond.gap`);
3. the verdicts on the paper's numbers: their rule, counts and a link to their figure
   (:mod:`infusion.paper.verdicts`);
4. the numbers this run produced beside the paper's, under short labels; every row,
   with its note, stays in ``scorecard.csv`` (:mod:`infusion.paper.scorecard`).

Snakemake's report renders the page (its workflow description) and defines a link target
for each of its results, named by its file name: the page links the verdicts figure so.
It cannot embed it: the page is written before the figure (drawn from ``scorecard.csv``),
and the report's ``embeddedimage`` directive keeps the image's path (Snakemake 9).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from infusion import published as paper
from infusion.paper import judging, verdicts
from infusion.switches import SWITCHES

LABEL_WIDTH = 22  # the numbers' labels, in characters: none wraps in the report's column
NATURAL = "CIFAR-10, CelebA, TFD (Fig 3.5 beyond MNIST, Fig 3.6, A.3, A.4, Table 3.2)"
CLAIM_VERDICTS = judging.VERDICTS  # the claims' verdicts
# The columns of the ladder's gap.csv the page reads (infusion.beyond.gap.GAP_COLUMNS)
GAP_READ = ("semantics", "component", "nats", "low", "high", "model")


def fmt(value: float, signed: bool = False) -> str:
    """A number with 2 decimals (with its sign when ``signed``); NaN as an em dash."""
    if pd.isna(value):
        return "—"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def rst_escape(text: str) -> str:
    """Plain text that docutils shows verbatim (no emphasis, references or substitutions)."""
    return "".join("\\" + c if c in "\\`*_|[]" else c for c in str(text))


def _list_table(rows: list[list[str]], widths: str, escaped: bool = False) -> list[str]:
    """An rst ``list-table`` with a header row (``rows[0]``), cells escaped unless
    ``escaped`` says they are already."""
    lines = [".. list-table::", "   :header-rows: 1", f"   :widths: {widths}", ""]
    for cells in rows:
        first, *rest = (c if escaped else rst_escape(c) for c in cells)
        lines += [f"   * - {first}", *(f"     - {c}" for c in rest)]
    return [*lines, ""]


def _section(title: str) -> list[str]:
    return [title, "-" * len(title), ""]


@dataclass(frozen=True)
class Scale:
    """What the study ran, from its config (:func:`infusion.paper.scorecard.scorecard_study`):
    its name, dataset, epochs, hidden units, batch size, grid points, importance-sampling
    chains, Parzen samples, the natural-image datasets it trains, and its notes."""

    study: str
    dataset: str
    epochs: int
    hidden: int
    batch_size: int
    grid_points: int
    is_chains: int
    parzen_samples: int
    natural: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def _not_run(card: pd.DataFrame) -> str:
    """Per table, the paper numbers the card has no run for (every row of ``card``, run or
    not), as "Table A.1: 26 of 35"; "none" when it ran them all."""
    listed = card[card["paper"].notna()]
    tables = listed["quantity"].map(verdicts.table_of)
    missing = listed["ours"].isna().groupby(tables, sort=False).agg(["sum", "size"])
    parts = [f"{t} {int(n)} of {int(of)}" for t, (n, of) in missing.iterrows() if n]
    return ", ".join(parts) or "none"


def status(scale: Scale, card: pd.DataFrame) -> list[str]:
    """The status box: the study's scale beside the paper's, its training seeds (the most of
    ``card``'s rows), the paper numbers it has no run for (``card``: every row, run or not),
    and the study's notes."""
    paper_grid = sum(len(rows) for rows in paper.TABLE_A1.values())
    rows = [
        ["Setting", f"This study ({scale.study})", "The paper"],
        ["Training data", scale.dataset, f"MNIST, {paper.MNIST_TRAIN_EXAMPLES:,} images"],
        ["Epochs", f"{scale.epochs:,}", f"up to {paper.EPOCHS:,} (the authors' code)"],
        ["Hidden units", f"{scale.hidden:,}", f"{paper.HIDDEN:,}"],
        ["Batch size", f"{scale.batch_size:,}", f"{paper.BATCH_SIZE:,} (the authors' code)"],
        ["Grid points", f"{scale.grid_points:,}", f"{paper_grid} + Fig A.1 (e), (f)"],
        ["Training seeds", f"{int(card['seeds'].max())}", "1 (single runs)"],
        ["IS chains", f"{scale.is_chains:,}", f"{paper.IS_CHAINS:,}"],
        ["Parzen samples", f"{scale.parzen_samples:,}", f"{paper.PARZEN_SAMPLES:,}"],
        ["Natural images", ", ".join(scale.natural) or "not run", NATURAL],
    ]
    return [
        *_section("Status"),
        f"The *{rst_escape(scale.study)}* study against Bordes, Honari and Vincent, "
        '"Learning to Generate Samples from Noise through Infusion Training" (ICLR 2017).',
        "",
        *_list_table(rows, "22 30 48"),
        f"Paper numbers with no run here: {_not_run(card)}.",
        "",
        *[f"- {rst_escape(note)}" for note in scale.notes],
        "",
    ]


def claims_section(claims: pd.DataFrame) -> list[str]:
    """The paper's claims, one line each: id and claim, verdict (with the noise it was
    decided against), ours."""
    classes = claims["verdict"].map(lambda v: judging.NOT_RUN if v.startswith("not run") else v)
    counts = classes.value_counts()
    tally = ", ".join(f"{counts.get(v, 0)} {v}" for v in CLAIM_VERDICTS)
    rows = [
        ["Claim", "Verdict", "Ours"],
        *(
            [
                f"**{rst_escape(r.id)}**: {rst_escape(r.claim)}",
                rst_escape(r.verdict + (f" (against: {r.noise})" if r.noise else "")),
                rst_escape(r.ours),
            ]
            for r in claims.itertuples()
        ),
    ]
    return [
        *_section("Claims"),
        f"The paper's claims about its results, each a computed check on this run's tables: "
        f"{tally}. A claim holds or fails only beyond the noise it names; undecided inside it "
        "or where it is unknown (one training seed). claims.csv gives each one's source (with "
        "a quote) and its test: what makes it hold and what makes it fail.",
        "",
        *_list_table(rows, "40 18 42", escaped=True),
    ]


def prediction_section(gap: pd.DataFrame) -> list[str]:
    """What the full study should find: the ladder's prediction of the paper's final
    model's test lower bound, per semantics, with its interval and model (``gap.csv``,
    :mod:`infusion.beyond.gap`), beside the paper's."""
    rows = [["Semantics", "Predicted test bound", "Bootstrap 95%", "Unexplained gap"]]
    models = []
    for semantics, part in gap.groupby("semantics", sort=False):
        by_kind = part.set_index("component")
        predicted = by_kind.loc["prediction"]
        interval = (f"{fmt(predicted['low'])} to {fmt(predicted['high'])}"
                    if pd.notna(predicted["low"]) else "none")  # fmt: skip
        rows.append([semantics, fmt(predicted["nats"]), interval,
                     fmt(by_kind.loc["unexplained", "nats"], signed=True)])  # fmt: skip
        models.append(f"- {rst_escape(semantics)}: {rst_escape(str(predicted['model']))}")
    bound = next(r[2] for r in paper.TABLE_3_1 if r[:2] == ("Infusion training", "lower bound"))
    return [
        *_section("What the full study should find"),
        "The ladder (beyond/ladder.csv) moves the start toward the paper's final model one "
        "factor at a time; gap.csv adds each factor's measured or extrapolated share to the "
        f"start. Its prediction of the paper's setting, against the paper's {fmt(bound)} nats "
        "(Table 3.1, test lower bound):",
        "",
        *_list_table(rows, "16 26 32 26"),
        "The models fitted:",
        "",
        *models,
        "",
    ]


def settings_table(study: dict) -> list[str]:
    """One table of the study's settings (``study``, config key -> value) that differ from
    those that made the paper's numbers (:data:`~infusion.paper.verdicts.SCALE_KEYS`): this
    run's value, the paper text's and the authors' code's (— where one is silent), and
    whether the key sets the scale (a number measured at another scale is "other scale")."""
    rows = [["Setting", "This run", "The paper", "The authors' code", "Sets the scale"]]
    switches = {f"{s.section}.{s.key}": s for s in SWITCHES}
    for key in verdicts.SCALE_KEYS:
        ours = study[key.key]
        if ours == key.paper:
            continue
        if key.key in switches:
            text, code = switches[key.key].paper, switches[key.key].code
        elif key.source == "paper":
            text, code = key.paper, "—"
        else:
            text, code = "—", key.paper
        rows.append(
            [key.key, verdicts.value_text(ours), verdicts.value_text(text),
             verdicts.value_text(code), "yes" if key.scale else "no"]
        )  # fmt: skip
    if len(rows) == 1:
        return ["Every setting is the one that made the paper's numbers.", ""]
    return _list_table(rows, "30 16 18 18 18")


def verdict_section(card: pd.DataFrame, stds: int, study: dict, figure: str) -> list[str]:
    """The account of the verdicts: the rule, the counts, a link to the verdicts figure at
    ``figure`` (its path, a result of the report), and once, the study's settings
    (``study``, config key -> value) that differ from those of the paper's numbers."""
    total = verdicts.verdict_counts(card).set_index("table").loc["all"]
    return [
        *_section("Verdicts"),
        f"{total['reproduced']} reproduced, {total['differs']} differ, "
        f"{total['undecided']} undecided, {total['other_scale']} at another scale, "
        f"{total['not_run_at_this_scale']} not run at this scale, of {total['rows']} paper "
        "numbers. Only a number measured at the paper's scale (dataset, epochs, width, "
        "batch, final model, chains, samples: the table below) is judged against the "
        f"paper's: reproduced when abs(paper - ours) <= {stds} x noise, ours being the seed "
        "mean and noise its seed std and estimate error in quadrature (Table 3.1: std over "
        "repetitions; Fig 3.4: standard error; Table 3.2: std over splits; Table A.1: none); "
        "undecided with one training "
        "seed, whose spread is unknown. Differs by X: X = ours - paper.",
        "",
        f"The figure: `{os.path.basename(figure)}`_ (paper against ours per number; "
        f"{rst_escape(figure)}).",
        "",
        "The study's settings that differ from those that made the paper's numbers "
        "(scorecard.csv's explanation column gives each row's own):",
        "",
        *settings_table(study),
    ]


def numbers_section(card: pd.DataFrame) -> list[str]:
    """The rows of ``card`` this run produced (ours not NaN) under their ``label``, numbers
    with 2 decimals (and their verdicts, and where the study searched for it, the estimate
    under the tightest proposal)."""
    ran = card[card["ours"].notna()].fillna({"verdict": ""})
    judged, searched = "verdict" in card.columns, card["tightest"].notna().any()
    header = ["Quantity", "Paper", "Ours", "Difference", *(["Verdict"] if judged else []),
              *(["Tightest proposal"] if searched else [])]  # fmt: skip
    body = [
        [r.label, fmt(r.paper), fmt(r.ours), fmt(r.difference, signed=True),
         *([r.verdict or "—"] if judged else []),
         *([fmt(r.tightest) + (f" ({r.tightest_proposal})" if pd.notna(r.tightest) else "")]
           if searched else [])]
        for r in ran.itertuples()
    ]  # fmt: skip
    widths = {
        (True, False): "26 14 14 16 30",
        (False, False): "34 22 22 22",
        (True, True): "22 11 11 13 20 23",
        (False, True): "26 14 14 16 30",
    }[judged, searched]
    units = "Difference = ours - paper, in nats"
    if ran["quantity"].str.startswith("Table 3.2").any():
        units += " (Table 3.2's Inception scores have no unit)"
    if searched:
        units += (
            "; Tightest proposal: our test IS under the proposal q of the highest validation IS"
            " (named), beside ours under the paper's procedure, which the verdict judges"
        )
    return [
        *_section("Numbers"),
        f"The numbers this run produced. {units}; — marks a value the paper does not list. "
        "scorecard.csv holds every row, with its note (seeds, errors, best epoch), and the "
        "paper's numbers not run here.",
        "",
        *_list_table([header, *body], widths),
    ]


def page(study: str, sections: list[list[str]]) -> str:
    """The front page: its title, then ``sections`` (lists of lines) in order."""
    title = f"Infusion training: reproduction scorecard ({study} study)"
    lines = ["=" * len(title), title, "=" * len(title), ""]
    for section in sections:
        lines += section
    return "\n".join(lines)
