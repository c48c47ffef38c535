"""Verdicts: each paper number on the report's front page judged from the run, none typed in.

A scorecard row (:mod:`infusion.paper.scorecard`) holds the paper's number, ours (the first
training seed's run), the seed columns and ``estimate_error``, the error of our estimate
that its table carries: the std over repetitions of Table 3.1's estimates, the standard
error of Fig 3.4's Parzen estimate, the std over splits of Table 3.2's Inception score
(Table A.1 carries none: its bound is one pass over the test set). Its verdict, by the one
judging rule of :mod:`infusion.paper.judging`:

- **not run at this scale**: the paper lists the number but the study has no run for it
  (a grid point it leaves out, a skipped isotropic estimate, Table 3.2 without a
  CIFAR-10 model);
- **other scale**: the study ran it at another scale than the paper's (a
  :data:`SCALE_KEYS` key with ``scale`` set, or a row's own sigma or image count, differs:
  the dataset, the epochs, the width, ...), so the paper's number is no target for ours;
  the row shows ours and the settings that differ;
- **undecided**: at the paper's scale, but ours has no known noise (a trained model's
  number from one training seed: its spread is unknown, whatever its estimate's error);
- **reproduced**: |paper - centre| <= stds * noise, centre the seed mean, noise our seed
  std and estimate error in quadrature (:class:`~infusion.paper.judging.Measured`), stds
  config ``verdicts.stds`` (default :data:`~infusion.paper.scorecard.SPREAD_STDS`, 2);
- **differs by X**, X = centre - paper (signed, in the row's unit), otherwise.

A row without a paper number (panels (e), (f), a reduced panel) gets no verdict. The
fidelity switches (text against code) are listed in a difference's explanation but do not
make a row "other scale": they are the semantics, not the scale.

Artifact ``verdicts``: the counts per verdict per table (``verdicts.csv``) and paper
against ours per row, coloured by verdict (``verdicts.png``), from the scorecard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from infusion import published as paper
from infusion.paper import judging
from infusion.paper.artifacts import artifact
from infusion.paper.tidy import PathLike, read_table, write_csv
from infusion.switches import SWITCHES

REPRODUCED = "reproduced"
DIFFERS = "differs"  # the verdict reads "differs by X"
UNDECIDED = "undecided"
OTHER_SCALE = "other scale"
NOT_RUN = "not run at this scale"
VERDICTS = (REPRODUCED, DIFFERS, UNDECIDED, OTHER_SCALE, NOT_RUN)
TABLES = ("Table A.1", "Table 3.1", "Fig 3.4", "Table 3.2")  # a scorecard quantity's prefix
MNIST_TABLES = TABLES[:3]
FINAL_TABLES = ("Table 3.1", "Fig 3.4")  # the final model's numbers
COUNT_COLUMNS = ["table", *(v.replace(" ", "_") for v in VERDICTS), "rows"]
COLOURS = {REPRODUCED: "tab:green", DIFFERS: "tab:red", UNDECIDED: "tab:orange",
           OTHER_SCALE: "tab:blue", NOT_RUN: "0.6"}  # fmt: skip
# The figure's panel titles, and the words of a quantity its panel's title already says.
TITLES = {
    "Table A.1": ("Table A.1: test lower bounds of the grid", "test lower bound: "),
    "Table 3.1": ("Table 3.1: log-likelihood estimates of the final model", ""),
    "Fig 3.4": ("Fig 3.4: Parzen estimate", "Parzen estimate, "),
    "Table 3.2": ("Table 3.2: Inception scores", "Inception score, "),
}


@dataclass(frozen=True)
class ScaleKey:
    """A config key whose value may explain a difference: the paper's value, where it
    comes from, the tables it bears on, and whether it sets the scale (a study at another
    value measures another quantity: its verdicts are "other scale")."""

    key: str
    paper: object
    source: str
    tables: tuple[str, ...]
    scale: bool = True


SCALE_KEYS = (
    ScaleKey("dataset", "mnist", "paper", MNIST_TABLES),
    ScaleKey("training.epochs", paper.EPOCHS, "the authors' code", MNIST_TABLES),
    ScaleKey("model.hidden", paper.HIDDEN, "paper", MNIST_TABLES),
    ScaleKey("training.batch_size", paper.BATCH_SIZE, "the authors' code", MNIST_TABLES),
    ScaleKey("final.steps", paper.STEPS, "paper", FINAL_TABLES),
    ScaleKey("final.alpha0", paper.ALPHA0, "paper", FINAL_TABLES),
    ScaleKey("final.omega", paper.OMEGA, "paper", FINAL_TABLES),
    ScaleKey("evaluation.chains", paper.IS_CHAINS, "paper", ("Table 3.1",)),
    ScaleKey("sampling.samples", paper.PARZEN_SAMPLES, "paper", ("Fig 3.4",)),
    ScaleKey("sampling.sampling_steps", paper.SAMPLING_STEPS, "paper", ("Fig 3.4",)),
    # The paper's numbers came from the authors' code: its side of each fidelity switch.
    *(
        ScaleKey(f"{s.section}.{s.key}", s.code, "the authors' code",
                 MNIST_TABLES if s.trains else ("Fig 3.4",), scale=False)
        for s in SWITCHES
    ),
)  # fmt: skip


def config_value(config: dict, key: str) -> object:
    """The value of the dotted config key ``key`` ("final.steps") in ``config``."""
    value = config
    for part in key.split("."):
        value = value[part]
    return value


def study_settings(config: dict) -> dict[str, object]:
    """Config key -> the study's value of every key of :data:`SCALE_KEYS`, from its loaded
    ``config`` (:func:`infusion.study.load`)."""
    return {scale_key.key: config_value(config, scale_key.key) for scale_key in SCALE_KEYS}


def table_of(quantity: str) -> str:
    """The paper table a scorecard quantity belongs to ("Table A.1 (b), ..." -> "Table A.1")."""
    table = next((t for t in TABLES if quantity.startswith(t)), None)
    if table is None:
        raise ValueError(f"scorecard quantity {quantity!r} names none of the tables {TABLES}")
    return table


def verdict_class(verdict: str) -> str:
    """ "differs by +1.00" -> "differs"; the other verdicts as they are."""
    return DIFFERS if verdict.startswith(DIFFERS) else verdict


def value_text(value) -> str:
    """A setting as config.yaml spells it: true/false, 1,500."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# A row's own settings that set its scale (an example count only sets the estimate's noise)
ROW_SCALE_KEYS = ("parzen.sigma", "inception.images", "inception.splits")


def scale_differences(table: str, study: dict, row: dict, scale_only: bool = False) -> list[str]:
    """The settings that differ from the paper's and bear on ``table``: the study's
    (``study``, config key -> value) and the row's own (``row``, key -> (ours, paper));
    with ``scale_only``, those that set the scale alone (:attr:`ScaleKey.scale`,
    :data:`ROW_SCALE_KEYS`)."""
    pairs = [
        (k.key, study[k.key], k.paper, k.source)
        for k in SCALE_KEYS
        if table in k.tables and (k.scale or not scale_only)
    ]
    pairs += [
        (key, ours, theirs, "paper")
        for key, (ours, theirs) in row.items()
        if key in ROW_SCALE_KEYS or not scale_only
    ]
    return [
        f"{key} = {value_text(ours)} ({source}: {value_text(theirs)})"
        for key, ours, theirs, source in pairs
        if ours != theirs
    ]


def _measured(row: dict) -> judging.Measured:
    """A scorecard row's number of ours as the judging rule takes it."""
    number = judging.measured(
        row["seeds"], row["seed_mean"], row["ours"], row["seed_std"], row["estimate_error"]
    )
    return (
        number
        if row.get("trained", True)
        else judging.published(row["ours"], row["estimate_error"])
    )


def centres(card: pd.DataFrame) -> np.ndarray:
    """What each row's verdict compares with the paper: the seed mean, ours with one seed."""
    return np.array([_measured(row).centre for row in card.to_dict("records")], dtype=float)


def judge(card: pd.DataFrame, stds: float, study: dict) -> pd.DataFrame:
    """The verdict of every row of ``card`` (columns quantity, paper, ours, seeds,
    seed_mean, seed_std, estimate_error, row_settings, optionally trained) as the module
    doc defines it, for the study's settings ``study`` (config key -> value): ``verdict``
    ("" without a paper number) and ``tolerance`` (NaN where no noise is known or the row
    is not judged against the paper)."""
    verdicts, tolerances = [], []
    for row in card.to_dict("records"):
        ours, tolerance = _measured(row), math.nan
        table = table_of(row["quantity"])
        if math.isnan(row["paper"]):
            verdict = ""
        elif math.isnan(ours.centre):
            verdict = NOT_RUN
        elif scale_differences(table, study, row.get("row_settings") or {}, scale_only=True):
            verdict = OTHER_SCALE
        elif math.isnan(ours.noise):
            verdict = UNDECIDED
        else:
            tolerance = stds * ours.noise
            difference = ours.centre - row["paper"]
            verdict = (
                REPRODUCED if abs(difference) <= tolerance else f"{DIFFERS} by {difference:+.2f}"
            )
        verdicts.append(verdict)
        tolerances.append(tolerance)
    return pd.DataFrame({"verdict": verdicts, "tolerance": tolerances}, index=card.index)


def explanation(verdict: str, row: dict, tolerance: float, stds: float, study: dict) -> str:
    """Why a row got its verdict: the test, and for a difference the settings that may
    explain it (``row``: its scorecard entries plus ``table``, ``not_run`` and
    ``row_settings``)."""
    if not verdict:
        return "the paper lists no value"
    if verdict == NOT_RUN:
        return row["not_run"]
    ours = _measured(row)
    if verdict == OTHER_SCALE:
        scale = scale_differences(row["table"], study, row["row_settings"], scale_only=True)
        return (
            f"ours {ours.centre:.2f} measured at another scale than the paper's: {'; '.join(scale)}"
        )
    if verdict == UNDECIDED:
        return f"ours {ours.centre:.2f} with no known noise ({ours.source})"
    test = f"tolerance {stds:g} x ({ours.source}, in quadrature) = {tolerance:.2f}"
    if verdict == REPRODUCED:
        return f"|paper - ours| within the {test}"
    differences = scale_differences(row["table"], study, row["row_settings"])
    settings = "; ".join(differences) or "none: the paper's settings (training noise, hardware)"
    return f"beyond the {test}; settings that differ from the paper's: {settings}"


def verdict_counts(card: pd.DataFrame) -> pd.DataFrame:
    """:data:`COUNT_COLUMNS`: per table (in :data:`TABLES` order, those present), then
    ``all``, the rows of each verdict; rows without a paper number are not counted."""
    judged = card[card["verdict"].fillna("") != ""]
    classes = judged["verdict"].map(verdict_class)
    tables = judged["quantity"].map(table_of)
    counts = pd.crosstab(tables, classes).reindex(columns=list(VERDICTS), fill_value=0)
    counts = counts.reindex([t for t in TABLES if t in counts.index])
    counts.loc["all"] = counts.sum()
    counts.columns = COUNT_COLUMNS[1:-1]
    counts["rows"] = counts.sum(axis=1)
    return counts.rename_axis("table").reset_index()[COUNT_COLUMNS]


@artifact("verdicts")
def verdicts(scorecard: PathLike, out: PathLike, figure_out: PathLike) -> pd.DataFrame:
    """``out`` (``verdicts.csv``, :func:`verdict_counts`) and ``figure_out``
    (``verdicts.png``, :func:`verdicts_figure`) from ``scorecard`` (``scorecard.csv`` with
    its verdict columns). Returns the counts."""
    card = read_table(scorecard)
    if "verdict" not in card.columns:
        raise ValueError(f"{scorecard} has no verdict column (config verdicts.enabled)")
    counts = verdict_counts(card)
    verdicts_figure(card, figure_out)
    return write_csv(counts, out)


def verdicts_figure(card: pd.DataFrame, out: PathLike) -> None:
    """One panel per table, one line per paper number: the paper's value (black ring) and
    our centre (seed mean) with its tolerance as an error bar, coloured by verdict; a row
    not run shows the paper's value alone."""
    from infusion.paper.drawing import plt, save  # pyplot with the Agg backend

    judged = card[card["verdict"].fillna("") != ""]
    judged = judged.assign(
        table=judged["quantity"].map(table_of),
        kind=judged["verdict"].map(verdict_class),
        centre=centres(judged),
    )
    tables = [t for t in TABLES if t in set(judged["table"])]
    heights = [max(len(judged[judged["table"] == t]), 2) for t in tables]
    fig, axes = plt.subplots(
        len(tables), 1, figsize=(10, 1.2 + 0.28 * sum(heights) + 0.5 * len(tables)),
        gridspec_kw={"height_ratios": heights}, squeeze=False,
    )  # fmt: skip
    for ax, table in zip(axes[:, 0], tables, strict=True):
        rows = judged[judged["table"] == table].reset_index(drop=True)
        y = np.arange(len(rows))[::-1]
        rings = ["black" if kind != NOT_RUN else COLOURS[NOT_RUN] for kind in rows["kind"]]
        ax.scatter(
            rows["paper"].to_numpy(dtype=float),
            y,
            s=46,
            facecolors="none",
            edgecolors=rings,
            zorder=3,
        )
        for kind in VERDICTS:
            shown = rows["kind"] == kind
            if kind != NOT_RUN and shown.any():
                centre = rows.loc[shown, "centre"].to_numpy(dtype=float)
                # no error bar where no noise is known (undecided, other scale)
                spread = np.nan_to_num(rows.loc[shown, "tolerance"].to_numpy(dtype=float))
                ax.errorbar(centre, y[shown], xerr=spread, fmt="o", color=COLOURS[kind],
                            capsize=3, markersize=5, zorder=2)  # fmt: skip
        title, said = TITLES[table]
        labels = [q.removeprefix(table).lstrip(" ,").replace(said, "") for q in rows["quantity"]]
        ax.set_yticks(y, labels, fontsize=8)
        for tick, kind in zip(ax.get_yticklabels(), rows["kind"], strict=True):
            tick.set_color(COLOURS[kind] if kind == NOT_RUN else "black")
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_title(title, fontsize=10, loc="left")
        ax.set_xlabel("Inception score" if table == "Table 3.2" else "nats", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    handles = [
        plt.Line2D([], [], marker="o", ls="", mfc="none", mec="black", label="paper"),
        *(plt.Line2D([], [], marker="o", color=COLOURS[k], label=k)
          for k in (REPRODUCED, DIFFERS, UNDECIDED, OTHER_SCALE)),
        plt.Line2D([], [], marker="o", ls="", mfc="none", mec=COLOURS[NOT_RUN],
                   label=f"paper, {NOT_RUN}"),
    ]  # fmt: skip
    top = 1 - 0.75 / fig.get_figheight()  # room for the title and the legend, in inches
    fig.suptitle("Paper against ours (seed mean +- tolerance), by verdict", y=0.995, va="top")
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, top), ncol=5,
               fontsize=9, frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0, 1, top))
    save(fig, out)
