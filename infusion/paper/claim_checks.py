"""The computations behind the paper's claims (:mod:`infusion.paper.claims`): each check
reads the run's tables (:class:`Tables`) and returns the numbers it compared, as a short
text, the noise it decided against and its verdict (:class:`Judged`), by the one judging
rule of :mod:`infusion.paper.judging`: holds, fails, undecided (within the noise, or the
noise unknown: one training seed) or not run (the study made no table for it; ``not run
(other scale)`` where the claim sets ours against other models' published numbers at the
paper's scale and the study ran at another).

Each check is scoped to its quote: the panels, the step counts, the estimator it names.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from infusion import published as paper
from infusion.paper.judging import (
    FAILS,
    HOLDS,
    NOT_RUN,
    UNDECIDED,
    Measured,
    equivalent,
    every,
    exceeds,
    measured,
    sources,
)
from infusion.paper.judging import published as published_number
from infusion.paper.tables import OURS

OTHER_SCALE = "not run (other scale)"
# Table A.1's sub-tables (the quote's "all subsection"): panels (a) to (d)
TABLE_A1_PANELS = tuple(paper.TABLE_A1)
# The paper's best rate of each panel: Table A.1's best row, A.1's stated constant optima
PAPER_OPTIMA = {
    **{panel: max(rows, key=rows.get) for panel, rows in paper.TABLE_A1.items()},
    **paper.CONSTANT_RATE_OPTIMA,
}
# Table A.1's schedules (infusion.paper.tables) -> the family whose best rate is compared
# across steps: a single step has one rate, as a constant schedule does.
FAMILIES = {"increasing": "increasing", "constant": "constant", "single-step": "constant"}
ESTIMATES = {"test_lower_bound": "bound", "importance_sampling": "IS", "parzen": "Parzen"}


@dataclass(frozen=True)
class Tables:
    """The run's tables a claim reads: Table A.1's rows the study ran, Fig 3.4's table, and
    where the study made them Table 3.2 and the lower-bound-training table; the study's
    settings that set another scale than the paper's, per paper table ("Fig 3.4" ->
    ["dataset = mnist5k (paper: mnist)", ...]; none: the paper's scale); the equivalence
    margin of "similar", in nats (config ``verdicts.similar_margin``)."""

    a1: pd.DataFrame
    f34: pd.DataFrame
    t32: pd.DataFrame | None = None
    objectives: pd.DataFrame | None = None
    other_scale: dict[str, list[str]] = field(default_factory=dict)
    similar_margin: float = math.nan


@dataclass(frozen=True)
class Judged:
    ours: str
    verdict: str
    noise: str = ""


# Table A.1


def _panels(a1: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each panel's rows the study ran, by rate, with ``number`` (:class:`Measured`)."""
    ran = a1[a1["test_lower_bound"].notna()]
    ran = ran.assign(
        number=[
            measured(*r) for r in ran[["seeds", "seed_mean", "test_lower_bound", "seed_std"]].values
        ]
    )
    return {
        panel: rows.sort_values("rate", ignore_index=True)
        for panel, rows in ran.groupby("panel", sort=True)
    }


def _best(rows: pd.DataFrame) -> pd.Series:
    """The row of the highest centre."""
    return rows.loc[rows["number"].map(lambda n: n.centre).idxmax()]


def _numbers(rows: pd.DataFrame) -> list[Measured]:
    return list(rows["number"])


def _plausibly_best(rows: pd.DataFrame, stds: float) -> list[float]:
    """The rates whose bound the panel's best does not exceed beyond the noise."""
    best = _best(rows)
    return [r.rate for r in rows.itertuples() if exceeds(best.number, r.number, stds) != HOLDS]


def _rate(schedule: str, rate: float) -> str:
    return f"{'omega' if schedule == 'increasing' else 'alpha0'} {rate:g}"


def infusion_beats_rate_0(t: Tables, stds: float) -> Judged:
    parts, verdicts, numbers = [], [], []
    for panel, rows in _panels(t.a1).items():
        zero, infused = rows[rows["rate"] == 0], rows[rows["rate"] > 0]
        if panel not in TABLE_A1_PANELS or zero.empty or infused.empty:
            continue
        best, zero = _best(infused), zero.iloc[0]
        verdicts.append(exceeds(best.number, zero.number, stds))
        numbers += [best.number, zero.number]
        parts.append(
            f"({panel}) T={best.steps}: {best.number.centre:.1f} at "
            f"{_rate(best.schedule, best.rate)} vs {zero.number.centre:.1f} at 0"
        )
    if not parts:
        return Judged("no panel of Table A.1 ran rate 0 and another rate", NOT_RUN)
    return Judged("; ".join(parts), every(verdicts), sources(*numbers))


def too_few_steps_fail(t: Tables, stds: float) -> Judged:
    panels = {p: rows for p, rows in _panels(t.a1).items() if p in TABLE_A1_PANELS}
    if "a" not in panels or len(panels) < 2:
        return Judged("no one-step panel (a) beside a panel of more steps", NOT_RUN)
    one = _best(panels.pop("a"))
    parts, verdicts, numbers = [f"(a) T=1: best {one.number.centre:.1f}"], [], [one.number]
    for panel, rows in panels.items():
        best = _best(rows)
        verdicts.append(exceeds(best.number, one.number, stds))
        numbers.append(best.number)
        parts.append(f"({panel}) T={best.steps}: best {best.number.centre:.1f}")
    return Judged("; ".join(parts), every(verdicts), sources(*numbers))


def _bracketed(rows: pd.DataFrame, rates: list[float]) -> bool:
    """Whether a panel's plausibly best rates lie inside its grid: none is its lowest rate
    (0: no infusion is as good) or its highest (the optimum may lie beyond)."""
    return min(rates) > rows["rate"].min() and max(rates) < rows["rate"].max()


def best_rate_falls_with_steps(t: Tables, stds: float) -> Judged:
    families: dict[str, list[tuple[int, list[float], bool]]] = {}
    numbers = []
    for rows in _panels(t.a1).values():
        if len(rows) >= 3:
            rates = _plausibly_best(rows, stds)
            steps, family = int(rows["steps"].iloc[0]), FAMILIES[rows["schedule"].iloc[0]]
            families.setdefault(family, []).append((steps, rates, _bracketed(rows, rates)))
            numbers += _numbers(rows)
    parts, verdicts = [], []
    for family in ("increasing", "constant"):
        panels = sorted(families.get(family, []))
        pairs = [(p, q) for p in panels for q in panels if p[0] < q[0]]
        if not pairs:  # the claim is of both families: this half is undecided
            parts.append(f"{family}: fewer than two panels of 3 rates at different steps")
            verdicts.append(UNDECIDED if families else NOT_RUN)
            continue
        for (_, few, few_inside), (_, many, many_inside) in pairs:
            if max(many) < min(few) and few_inside and many_inside:
                verdicts.append(HOLDS)
            elif min(many) > max(few) and few_inside and many_inside:
                verdicts.append(FAILS)
            else:
                verdicts.append(UNDECIDED)
        best = [
            f"T={steps}: {'/'.join(f'{r:g}' for r in rates)}{'' if inside else ' (at its edge)'}"
            for steps, rates, inside in panels
        ]
        parts.append(f"{family}: best {', '.join(best)}")
    if not verdicts:
        return Judged("; ".join(parts), NOT_RUN)
    return Judged("; ".join(parts), every(verdicts), sources(*numbers))


def too_high_rate_collapses(t: Tables, stds: float) -> Judged:
    parts, verdicts, numbers = [], [], []
    for panel, rows in _panels(t.a1).items():
        optimum = PAPER_OPTIMA.get(panel)
        if optimum is None or len(rows) < 2 or rows["rate"].max() <= optimum:
            continue
        top, below = rows.iloc[-1], _best(rows.iloc[:-1])
        verdicts.append(exceeds(below.number, top.number, stds))
        numbers += [below.number, top.number]
        parts.append(
            f"({panel}) {below.number.centre:.1f} at {below.rate:g} -> "
            f"{top.number.centre:.1f} at {top.rate:g}"
        )
    if not parts:
        return Judged("no panel ran a rate above the paper's best rate for it", NOT_RUN)
    return Judged("; ".join(parts), every(verdicts), sources(*numbers))


def constant_rate_optima(t: Tables, stds: float) -> Judged:
    parts, verdicts, numbers = [], [], []
    panels = _panels(t.a1)
    for panel, optimum in paper.CONSTANT_RATE_OPTIMA.items():
        rows = panels.get(panel)
        if rows is None or int(rows["steps"].iloc[0]) != paper.PANEL_STEPS[panel]:
            continue
        at = rows[(rows["rate"] - optimum).abs() < 1e-9]
        if at.empty:
            continue
        stated, others = at.iloc[0], rows[(rows["rate"] - optimum).abs() >= 1e-9]
        if others.empty:
            continue
        rivals = [exceeds(stated.number, r.number, stds) for r in others.itertuples()]
        sides = others["rate"].min() < optimum < others["rate"].max()
        verdict = every(rivals)
        verdicts.append(UNDECIDED if verdict == HOLDS and not sides else verdict)
        numbers += _numbers(rows)
        best = _best(rows)
        parts.append(
            f"({panel}) T={stated.steps}: {stated.number.centre:.1f} at {optimum:g}; best "
            f"{best.number.centre:.1f} at {best.rate:g}"
        )
    if not parts:
        return Judged("no panel (e) or (f) at its paper steps with the stated optimum and "
                      "another rate", NOT_RUN)  # fmt: skip
    return Judged("; ".join(parts), every(verdicts), sources(*numbers))


# Table 3.1, Fig 3.4, Table 3.2


def _other_scale(t: Tables, table: str, ours: str) -> Judged | None:
    """``not run (other scale)`` with ours shown and the keys that set the other scale
    named, where ``table`` ran at another scale."""
    differences = t.other_scale.get(table, [])
    if not differences:
        return None
    keys = ", ".join(d.split(" = ")[0] for d in differences)
    return Judged(f"{ours}; another scale than the paper's ({keys})", OTHER_SCALE)


def _short_model(model: str) -> str:
    """ "GANs (Goodfellow et al.)" -> "GANs"."""
    return model.split(" (")[0]


def parzen_above_baselines(t: Tables, stds: float) -> Judged:
    f34 = t.f34
    row = f34[f34["model"] == OURS].iloc[0]
    ours = measured(row["seeds"], row["seed_mean"], row["mean"], row["seed_std"], row["stderr"])
    if math.isnan(ours.centre):
        return Judged("no Parzen estimate", NOT_RUN)
    scale = dict(t.other_scale)
    if pd.notna(row["sigma"]) and row["sigma"] != paper.PARZEN_SIGMA:
        sigma = f"parzen.sigma = {row['sigma']:g} (paper: {paper.PARZEN_SIGMA:g})"
        scale["Fig 3.4"] = [*scale.get("Fig 3.4", []), sigma]
    other = _other_scale(Tables(t.a1, f34, other_scale=scale), "Fig 3.4",
                         f"ours {ours.centre:.1f}")  # fmt: skip
    if other is not None:
        return other
    verdicts, parts, numbers = [], [f"ours {ours.centre:.1f}"], [ours]
    for r in f34[f34["model"] != OURS].itertuples():
        baseline = published_number(r.paper_mean, r.paper_stderr)
        verdicts.append(exceeds(ours, baseline, stds))
        numbers.append(baseline)
        parts.append(f"{_short_model(r.model)} {r.paper_mean:g}: {verdicts[-1]}")
    return Judged("; ".join(parts), every(verdicts), sources(*numbers))


def inception_above_gan(t: Tables, stds: float) -> Judged:
    if t.t32 is None:
        return Judged("no Table 3.2 (no CIFAR-10 model)", NOT_RUN)
    rows = t.t32.set_index("model")
    row, gan = rows.loc[OURS], rows.loc["-L"]
    if math.isnan(row["inception_score"]):
        return Judged("no Inception score of our samples", NOT_RUN)
    # one final model, trained once: its seed spread is unknown
    ours = measured(1, math.nan, row["inception_score"], math.nan, row["inception_score_std"])
    shown = f"ours {ours.centre:.2f} vs -L {gan['paper_inception_score']:.2f}"
    other = _other_scale(t, "Table 3.2", shown)
    if other is not None:
        return other
    baseline = published_number(gan["paper_inception_score"], gan["paper_inception_score_error"])
    return Judged(shown, exceeds(ours, baseline, stds), sources(ours, baseline))


# The lower-bound-training table (denoising against lower-bound training)


def _steps_of(grid_point: str) -> int:
    """A grid point's run folder name (T5-a0-w0.1) -> its steps."""
    found = re.match(r"T(\d+)-", grid_point)
    if found is None:
        raise ValueError(f"lower-bound-training: grid_point {grid_point!r} is no run folder name")
    return int(found.group(1))


def _by_point(objectives: pd.DataFrame, objective: str) -> dict[str, dict[str, Measured]]:
    """Per point trained with ``objective``: each estimate's seed mean and std (ddof 1)."""
    runs = objectives[objectives["objective"] == objective]
    points = {}
    for point, rows in runs.groupby("point", sort=False):
        points[point] = {
            column: measured(len(rows), rows[column].mean(), rows[column].iloc[0],
                             rows[column].std())
            for column in ESTIMATES
        }  # fmt: skip
    return points


def lower_bound_training_similar(t: Tables, stds: float) -> Judged:
    if t.objectives is None:
        return Judged("no lower-bound-training table", NOT_RUN)
    denoising = _by_point(t.objectives, "denoising")
    lower = _by_point(t.objectives, "lower_bound")
    if set(denoising) != set(lower):
        return Judged("points not trained with both objectives", NOT_RUN)
    margin = t.similar_margin
    verdicts, parts, numbers = [], [], []
    for point in denoising:
        for column, name in ESTIMATES.items():
            d, lb = denoising[point][column], lower[point][column]
            verdicts.append(equivalent(lb, d, margin, stds))
            numbers += [d, lb]
            parts.append(f"{point} {name}: {lb.centre - d.centre:+.1f}")
    tally = ", ".join(f"{verdicts.count(v)} {v}" for v in (HOLDS, FAILS, UNDECIDED))
    return Judged(
        f"lower bound - denoising (margin {margin:g} nats): {'; '.join(parts)} ({tally})",
        every(verdicts),
        sources(*numbers),
    )
