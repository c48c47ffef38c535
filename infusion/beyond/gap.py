"""The gap from the ladder's start to the paper's final model, split by factor, and the
extrapolation to the paper's setting (issue 22): arithmetic on the ladder's table only.

Per semantics (the text's, the released code's), on the test lower bound under each run's own
proposal (Table 3.1's row, the paper's procedure):

- **total**: the paper's test bound (Table 3.1, :data:`PAPER_BOUND`) minus the start's mean
  over seeds;
- **measured**, for a factor the extrapolation does not fit (width, steps): the mean of its
  rung nearest the paper's value, on the study's dataset, minus the start's;
- **extrapolated**, for a factor it fits (epochs, training images): the fitted slope times
  ln(paper's value / start's value);
- **unexplained**: the total minus the shares above, so that the shares sum to the total
  (a share whose rung did not run, or that the runs do not fit, is empty and counts as
  unexplained; the prediction is then empty too).

The fit (:func:`fit_log_linear`) is linear least squares of the bound on ln(value) of each
fitted factor, with an intercept per dataset (a Fashion-MNIST rung measures the slope in
training images beyond the 4,000 real digits of mnist5k, at its own level), over every run
that differs from the start only in fitted factors and dataset. The **prediction** for the
paper's setting is the start plus every measured and extrapolated share (additive effects:
the model's assumption); its interval is the 2.5 and 97.5 percentiles over a bootstrap that
resamples each rung's seeds (a rung with one seed adds no spread: the interval is a lower
bound on the uncertainty).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from infusion import published as paper

# Table 3.1: the infusion model's test lower bound (nats), the paper's final model
PAPER_BOUND = next(
    row[2] for row in paper.TABLE_3_1 if row[:2] == ("Infusion training", "lower bound")
)
# The paper's final model's value of each setting column of the ladder's table
PAPER_SETTINGS = {
    "epochs": paper.EPOCHS,
    "train_examples": paper.MNIST_TRAIN_EXAMPLES,
    "hidden": paper.HIDDEN,
    "steps": paper.STEPS,
}
QUANTITY = "test_lower_bound"
GAP_COLUMNS = [
    "semantics", "component", "kind", "column", "start_value", "to_value", "nats", "low",
    "high", "model",
]  # fmt: skip
SHARE_KINDS = ("measured", "extrapolated", "unexplained")  # sum to the total
BOOTSTRAP = 1000  # resamples of the prediction's interval
START = "start"  # the factor of the ladder's origin


def fit_log_linear(runs: pd.DataFrame, columns: list[str]) -> dict[str, float]:
    """Least squares of ``runs[QUANTITY]`` on an intercept per dataset and ln of each of
    ``columns``, by the normal equations: {"<dataset>": intercept, "<column>": slope};
    ``ValueError`` when the points do not determine them (too few distinct values)."""
    datasets = sorted(runs["dataset"].unique())
    design = np.column_stack(
        [(runs["dataset"] == d).to_numpy(float) for d in datasets]
        + [np.log(runs[c].to_numpy(float)) for c in columns]
    )
    gram = design.T @ design
    if np.linalg.matrix_rank(gram) < gram.shape[0]:
        raise ValueError(
            f"the ladder's runs ({len(runs)}) do not determine the fit on {columns}: "
            "each fitted factor needs two values on one dataset"
        )
    solution = np.linalg.solve(gram, design.T @ runs[QUANTITY].to_numpy(float))
    return dict(zip([*datasets, *columns], solution.tolist(), strict=True))


def start_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["factor"] == START]


def fit_runs(runs: pd.DataFrame, fitted: list[str], fixed: list[str]) -> pd.DataFrame:
    """The runs the fit uses: those whose ``fixed`` columns equal the start's (only fitted
    factors and the dataset differ)."""
    start = start_runs(runs).iloc[0]
    same = np.logical_and.reduce([runs[c] == start[c] for c in fixed]) if fixed else True
    return runs[same]


def gap_rows(runs: pd.DataFrame, factors: dict[str, dict]) -> list[dict]:
    """The gap of one semantics' runs (the ladder's table, one semantics), as rows of
    :data:`GAP_COLUMNS` but the interval: total, each factor's share, unexplained and the
    prediction. ``factors``: {name: {"column": ..., "extrapolate": bool}}."""
    start = start_runs(runs)
    if start.empty:
        raise ValueError("the ladder has no start rung (factor: start) for its gap")
    dataset, start_mean = start["dataset"].iloc[0], start[QUANTITY].mean()
    fitted = [f["column"] for f in factors.values() if f.get("extrapolate")]
    fixed = [f["column"] for f in factors.values() if not f.get("extrapolate")]
    rows = [{"component": "total", "kind": "total", "nats": PAPER_BOUND - start_mean}]
    model, fit = "", {}
    if fitted:
        points = fit_runs(runs, fitted, fixed)
        try:
            fit = fit_log_linear(points, fitted)
            terms = " + ".join(f"{fit[c]:.4g} ln({c})" for c in fitted)
            model = f"{QUANTITY} = a[dataset] + {terms}, least squares on {len(points)} runs"
        except ValueError as error:
            model = f"not fitted: {error}"
    for name, factor in factors.items():
        column = factor["column"]
        start_value = float(start[column].iloc[0])
        target = float(PAPER_SETTINGS[column])
        row = {"component": name, "column": column, "start_value": start_value,
               "to_value": target}  # fmt: skip
        if factor.get("extrapolate"):
            share = fit.get(column, np.nan) * (np.log(target) - np.log(start_value))
            rows.append(row | {"kind": "extrapolated", "nats": share})
            continue
        own = runs[(runs["factor"] == name) & (runs["dataset"] == dataset)]
        if own.empty:
            rows.append(row | {"kind": "measured", "nats": np.nan, "to_value": np.nan})
            continue
        distance = (np.log(own[column].astype(float)) - np.log(target)).abs()
        nearest = own[distance == distance.min()]
        value = float(nearest[column].iloc[0])
        rows.append(row | {"kind": "measured", "to_value": value,
                           "nats": nearest[QUANTITY].mean() - start_mean})  # fmt: skip
    shares = [r["nats"] for r in rows if r["kind"] in SHARE_KINDS]
    explained = sum(share for share in shares if pd.notna(share))
    rows.append({"component": "unexplained", "kind": "unexplained",
                 "nats": rows[0]["nats"] - explained})  # fmt: skip
    # a share not measured (its rung not run) or not fitted leaves the prediction unknown
    prediction = start_mean + explained if all(pd.notna(shares)) else np.nan
    rows.append({"component": "prediction", "kind": "prediction", "nats": prediction,
                 "model": model})  # fmt: skip
    return rows


def bootstrap_predictions(
    runs: pd.DataFrame, factors: dict[str, dict], resamples: int = BOOTSTRAP, seed: int = 0
) -> np.ndarray:
    """The prediction of :func:`gap_rows` over ``resamples`` resamples of ``runs``: each
    rung's seeds drawn with replacement (as many as it has)."""
    rng = np.random.default_rng(seed)
    groups = [group for _, group in runs.groupby("rung", sort=False)]
    predictions = np.empty(resamples)
    for i in range(resamples):
        sample = pd.concat(
            [g.iloc[rng.integers(0, len(g), len(g))] for g in groups], ignore_index=True
        )
        predictions[i] = gap_rows(sample, factors)[-1]["nats"]
    return predictions


def gap_table(
    table: pd.DataFrame, factors: dict[str, dict], resamples: int = BOOTSTRAP
) -> pd.DataFrame:
    """``results/tables/beyond/gap.csv`` (:data:`GAP_COLUMNS`) from the ladder's table: the
    rows of :func:`gap_rows` per semantics, the prediction with its bootstrap interval."""
    rows = []
    for semantics, runs in table.groupby("semantics", sort=False):
        found = gap_rows(runs, factors)
        if pd.notna(found[-1]["nats"]):
            predictions = bootstrap_predictions(runs, factors, resamples)
            found[-1] |= {"low": np.percentile(predictions, 2.5),
                          "high": np.percentile(predictions, 97.5)}  # fmt: skip
        rows += [{"semantics": semantics, **row} for row in found]
    return pd.DataFrame(rows, columns=GAP_COLUMNS)
