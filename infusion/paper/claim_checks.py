"""The computations behind the paper's claims (:mod:`infusion.paper.claims`): each check
reads the run's tables (:class:`Tables`) and returns the numbers it compared, as a short
text, and its verdict (:class:`Judged`): holds, fails or not run. The tolerances and the
numbers taken are those the claims' module doc defines."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from infusion.paper.tables import OURS

HOLDS, FAILS, NOT_RUN = "holds", "fails", "not run"
# "Of the paper's order": within a factor sqrt(10) of the paper's number either way, i.e.
# the same order of magnitude (|log10(ours / paper)| <= 0.5).
ORDER_FACTOR = math.sqrt(10)
# Table A.1's schedules (infusion.paper.tables) -> the family whose best rate is compared
# across steps: a single step has one rate, as a constant schedule does.
FAMILIES = {"increasing": "increasing", "constant": "constant", "single-step": "constant"}
ESTIMATES = {"test_lower_bound": "bound", "importance_sampling": "IS", "parzen": "Parzen"}


@dataclass(frozen=True)
class Tables:
    """The run's tables a claim reads: Table A.1's rows the study ran, Table 3.1, Fig 3.4's
    table, and where the study made them Table 3.2 and the lower-bound-training table."""

    a1: pd.DataFrame
    t31: pd.DataFrame
    f34: pd.DataFrame
    t32: pd.DataFrame | None = None
    objectives: pd.DataFrame | None = None


@dataclass(frozen=True)
class Judged:
    ours: str
    verdict: str


def _noise(seeds, seed_std: float, error: float = math.nan) -> float:
    """A number's noise: its seed std (with two or more seeds) and its estimate's error in
    quadrature; a missing one counts 0."""
    spread = seed_std if pd.notna(seeds) and seeds >= 2 and pd.notna(seed_std) else 0.0
    return math.hypot(spread, 0.0 if pd.isna(error) else error)


def _centre(seeds, seed_mean: float, value: float) -> float:
    return seed_mean if pd.notna(seeds) and seeds >= 2 else value


def _above(a: float, noise_a: float, b: float, noise_b: float, stds: int) -> bool:
    """Whether ``a`` exceeds ``b`` by more than ``stds`` times their noises in quadrature."""
    return a - b > stds * math.hypot(noise_a, noise_b)


def _rate(panel_rows: pd.DataFrame, rate: float) -> str:
    symbol = "omega" if panel_rows["schedule"].iloc[0] == "increasing" else "alpha0"
    return f"{symbol} {rate:g}"


# Table A.1


def _panels(a1: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Each panel's rows the study ran, by rate, with ``centre`` and ``noise``."""
    ran = a1[a1["test_lower_bound"].notna()]
    ran = ran.assign(
        centre=[_centre(*r) for r in ran[["seeds", "seed_mean", "test_lower_bound"]].values],
        noise=[_noise(s, std) for s, std in ran[["seeds", "seed_std"]].values],
    )
    return {
        panel: rows.sort_values("rate", ignore_index=True)
        for panel, rows in ran.groupby("panel", sort=True)
    }


def _best(rows: pd.DataFrame) -> pd.Series:
    return rows.loc[rows["centre"].idxmax()]


def _plausibly_best(rows: pd.DataFrame, stds: int) -> list[float]:
    """The rates whose bound is within the tolerance of the panel's best."""
    best = _best(rows)
    return [
        r.rate
        for r in rows.itertuples()
        if not _above(best.centre, best.noise, r.centre, r.noise, stds)
    ]


def infusion_beats_rate_0(t: Tables, stds: int) -> Judged:
    parts, verdicts = [], []
    for panel, rows in _panels(t.a1).items():
        zero, infused = rows[rows["rate"] == 0], rows[rows["rate"] > 0]
        if zero.empty or infused.empty:
            continue
        best, zero = _best(infused), zero.iloc[0]
        verdicts.append(_above(best.centre, best.noise, zero.centre, zero.noise, stds))
        parts.append(
            f"({panel}) T={best.steps}: {best.centre:.1f} at {_rate(rows, best.rate)} vs "
            f"{zero.centre:.1f} at 0"
        )
    if not parts:
        return Judged("no panel ran rate 0 and another rate", NOT_RUN)
    return Judged("; ".join(parts), HOLDS if all(verdicts) else FAILS)


def best_rate_falls_with_steps(t: Tables, stds: int) -> Judged:
    families: dict[str, list[tuple[int, list[float]]]] = {}
    for rows in _panels(t.a1).values():
        if len(rows) >= 2:
            family = FAMILIES[rows["schedule"].iloc[0]]
            best = (int(rows["steps"].iloc[0]), _plausibly_best(rows, stds))
            families.setdefault(family, []).append(best)
    parts, verdicts = [], []
    for family in ("increasing", "constant"):
        panels = sorted(families.get(family, []))
        pairs = [(p, q) for p in panels for q in panels if p[0] < q[0]]
        if not pairs:
            parts.append(f"{family}: fewer than two panels of different steps")
            verdicts.append(None)
            continue
        verdicts.append(all(max(q_rates) < min(p_rates) for (_, p_rates), (_, q_rates) in pairs))
        best = [f"T={steps}: {'/'.join(f'{r:g}' for r in rates)}" for steps, rates in panels]
        parts.append(f"{family}: best {', '.join(best)}")
    if False in verdicts:
        verdict = FAILS
    else:
        verdict = NOT_RUN if None in verdicts else HOLDS
    return Judged("; ".join(parts), verdict)


def too_high_rate_collapses(t: Tables, stds: int) -> Judged:
    parts, verdicts = [], []
    for panel, rows in _panels(t.a1).items():
        if len(rows) < 2:
            continue
        best, top = _best(rows), rows.iloc[-1]
        if top.rate == best.rate:
            parts.append(f"({panel}) best at its highest rate {best.rate:g}")
            continue
        verdicts.append(_above(best.centre, best.noise, top.centre, top.noise, stds))
        parts.append(
            f"({panel}) {best.centre:.1f} at {best.rate:g} -> {top.centre:.1f} at {top.rate:g}"
        )
    if not verdicts:
        return Judged("; ".join(parts) or "no panel ran two rates", NOT_RUN)
    return Judged("; ".join(parts), HOLDS if all(verdicts) else FAILS)


def increasing_beats_constant(t: Tables, stds: int) -> Judged:
    return Judged("no sample-quality score of the constant-rate model", NOT_RUN)


# Table 3.1, Fig 3.4, Table 3.2


def _table_3_1_row(t31: pd.DataFrame, estimator: str) -> dict:
    rows = t31[(t31["model"] == OURS) & (t31["estimator"] == estimator)]
    return rows.iloc[0].to_dict()


def is_above_bound(t: Tables, stds: int) -> Judged:
    importance, bound = _table_3_1_row(t.t31, "IS"), _table_3_1_row(t.t31, "lower bound")
    parts, verdicts = [], []
    for split in ("test", "train"):
        values = []
        for row in (importance, bound):
            seeds = row["seeds"]
            values.append(
                (
                    _centre(seeds, row[f"{split}_seed_mean"], row[f"{split}_mean"]),
                    _noise(seeds, row[f"{split}_seed_std"], row[f"{split}_std"]),
                )
            )
        (ours_is, noise_is), (ours_bound, noise_bound) = values
        if math.isnan(ours_is) or math.isnan(ours_bound):
            return Judged(f"no IS or lower bound on {split}", NOT_RUN)
        gap = ours_is - ours_bound
        paper_gap = importance[f"paper_{split}_mean"] - bound[f"paper_{split}_mean"]
        of_order = paper_gap / ORDER_FACTOR <= gap <= paper_gap * ORDER_FACTOR
        verdicts.append(_above(ours_is, noise_is, ours_bound, noise_bound, stds) and of_order)
        parts.append(
            f"{split}: IS {ours_is:.1f} - bound {ours_bound:.1f} = {gap:.1f} "
            f"(paper {paper_gap:.1f})"
        )
    return Judged("; ".join(parts), HOLDS if all(verdicts) else FAILS)


def _short_model(model: str) -> str:
    """ "GANs (Goodfellow et al.)" -> "GANs"."""
    return model.split(" (")[0]


def parzen_above_baselines(t: Tables, stds: int) -> Judged:
    f34 = t.f34
    ours = f34[f34["model"] == OURS].iloc[0]
    centre = _centre(ours["seeds"], ours["seed_mean"], ours["mean"])
    if math.isnan(centre):
        return Judged("no Parzen estimate", NOT_RUN)
    noise = _noise(ours["seeds"], ours["seed_std"], ours["stderr"])
    above, below = [], []
    for r in f34[f34["model"] != OURS].itertuples():
        beaten = _above(centre, noise, r.paper_mean, r.paper_stderr, stds)
        (above if beaten else below).append(f"{_short_model(r.model)} {r.paper_mean:g}")
    parts = [f"ours {centre:.1f}"]
    parts += [f"above {', '.join(above)}"] if above else []
    parts += [f"not above {', '.join(below)}"] if below else []
    return Judged("; ".join(parts), FAILS if below else HOLDS)


def inception_above_gan(t: Tables, stds: int) -> Judged:
    if t.t32 is None:
        return Judged("no Table 3.2 (no CIFAR-10 model)", NOT_RUN)
    rows = t.t32.set_index("model")
    ours, gan = rows.loc[OURS], rows.loc["-L"]
    if math.isnan(ours["inception_score"]):
        return Judged("no Inception score of our samples", NOT_RUN)
    beaten = _above(
        ours["inception_score"],
        ours["inception_score_std"],
        gan["paper_inception_score"],
        gan["paper_inception_score_error"],
        stds,
    )
    return Judged(
        f"ours {ours['inception_score']:.2f} vs -L {gan['paper_inception_score']:.2f}",
        HOLDS if beaten else FAILS,
    )


# The lower-bound-training table (denoising against lower-bound training)


def _steps_of(grid_point: str) -> int:
    """A grid point's run folder name (T5-a0-w0.1) -> its steps."""
    found = re.match(r"T(\d+)-", grid_point)
    if found is None:
        raise ValueError(f"lower-bound-training: grid_point {grid_point!r} is no run folder name")
    return int(found.group(1))


def _by_point(objectives: pd.DataFrame, objective: str) -> pd.DataFrame:
    """Per point trained with ``objective``: its steps, seeds, and each estimate's mean and
    noise over the seeds (std, ddof 1; 0 with one seed)."""
    runs = objectives[objectives["objective"] == objective]
    stats = runs.groupby("point", sort=False).agg(
        grid_point=("grid_point", "first"),
        seeds=("seed", "size"),
        **{f"{c}_mean": (c, "mean") for c in ESTIMATES},
        **{f"{c}_std": (c, "std") for c in ESTIMATES},
    )
    for column in ESTIMATES:
        stats[f"{column}_noise"] = [
            _noise(n, s) for n, s in stats[["seeds", f"{column}_std"]].values
        ]
    return stats.assign(steps=stats["grid_point"].map(_steps_of))


def _sample_points(t: Tables) -> pd.DataFrame | None:
    """The denoising points of the lower-bound-training table, None with fewer than two
    step counts."""
    if t.objectives is None:
        return None
    points = _by_point(t.objectives, "denoising")
    return points if points["steps"].nunique() >= 2 else None


def lower_bound_training_similar(t: Tables, stds: int) -> Judged:
    if t.objectives is None:
        return Judged("no lower-bound-training table", NOT_RUN)
    denoising, lower = _by_point(t.objectives, "denoising"), _by_point(t.objectives, "lower_bound")
    if set(denoising.index) != set(lower.index):
        return Judged("points not trained with both objectives", NOT_RUN)
    if min(denoising["seeds"].min(), lower["seeds"].min()) < 2:
        return Judged("one training seed: no spread to judge similar by", NOT_RUN)
    within, worst = 0, (-1.0, "", 0.0, 0.0)
    for point in denoising.index:
        d, lb = denoising.loc[point], lower.loc[point]
        for column, name in ESTIMATES.items():
            difference = lb[f"{column}_mean"] - d[f"{column}_mean"]
            tolerance = stds * math.hypot(d[f"{column}_noise"], lb[f"{column}_noise"])
            within += abs(difference) <= tolerance
            ratio = abs(difference) / tolerance if tolerance > 0 else math.inf
            worst = max(worst, (ratio, f"{point} {name}", difference, tolerance))
    total = len(denoising) * len(ESTIMATES)
    _, where, difference, tolerance = worst
    return Judged(
        f"{within} of {total} within tolerance; farthest {where}: lower bound - denoising "
        f"{difference:+.1f} (tolerance {tolerance:.1f})",
        HOLDS if within == total else FAILS,
    )


def bound_alone_misleads(t: Tables, stds: int) -> Judged:
    points = _sample_points(t)
    if points is None:
        return Judged("no Parzen estimate at two step counts", NOT_RUN)
    found = []
    for p in points.itertuples():
        for q in points.itertuples():
            if p.steps < q.steps and (
                _above(p.test_lower_bound_mean, p.test_lower_bound_noise,
                       q.test_lower_bound_mean, q.test_lower_bound_noise, stds)
                and _above(q.parzen_mean, q.parzen_noise, p.parzen_mean, p.parzen_noise, stds)
            ):  # fmt: skip
                found.append(
                    f"T={p.steps}: bound {p.test_lower_bound_mean:.1f}, Parzen "
                    f"{p.parzen_mean:.1f} vs T={q.steps}: {q.test_lower_bound_mean:.1f}, "
                    f"{q.parzen_mean:.1f}"
                )
    if found:
        return Judged("; ".join(found), HOLDS)
    summary = ", ".join(
        f"T={p.steps}: bound {p.test_lower_bound_mean:.1f}, Parzen {p.parzen_mean:.1f}"
        for p in points.sort_values("steps").itertuples()
    )
    return Judged(summary, FAILS)


def more_steps_better_samples(t: Tables, stds: int) -> Judged:
    points = _sample_points(t)
    if points is None:
        return Judged("no Parzen estimate at two step counts", NOT_RUN)
    most = points[points["steps"] == points["steps"].max()]
    best = most.loc[most["parzen_mean"].idxmax()]
    fewer = points[points["steps"] < best["steps"]].sort_values("steps")
    beaten = [
        _above(best["parzen_mean"], best["parzen_noise"], p.parzen_mean, p.parzen_noise, stds)
        for p in fewer.itertuples()
    ]
    others = ", ".join(f"T={p.steps}: {p.parzen_mean:.1f}" for p in fewer.itertuples())
    return Judged(
        f"Parzen T={best['steps']}: {best['parzen_mean']:.1f} vs {others}",
        HOLDS if all(beaten) else FAILS,
    )
