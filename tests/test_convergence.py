"""The estimates against the number of chains k (issue 15, question 3): the prefix logic
against numpy, the last point against Table 3.1's estimator called directly, the table and
the figure against the records they are made from."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import process_of, tiny_model
from scipy.special import logsumexp
from test_figures import assert_legends_outside_data

from infusion.beyond.convergence import convergence
from infusion.estimation.against_k import chain_convergence, prefix_estimates
from infusion.estimation.evaluation import fit_population_statistics, table_estimates
from infusion.settings import ConvergenceSettings, EvalSettings

CHAINS = [1, 3, 8]


def scored_model():
    """A tiny untrained model with a prior and population batch-norm statistics."""
    model = tiny_model(dim=6, steps=3, alpha0=0.1, omega=0.2, hidden=8)
    x_train = torch.rand(64, 6, generator=torch.Generator().manual_seed(0))
    model.fit_prior(x_train)
    fit_population_statistics(
        process_of(model), model, x_train, 32, torch.Generator().manual_seed(1)
    )
    return model


def test_prefix_estimates_score_the_first_k_chains_of_every_row():
    """For each k: the mean over rows of mean(l_1..l_k) and of logsumexp(l_1..l_k) - log k,
    recomputed in numpy; chains beyond the prefix (made huge here) change nothing."""
    rng = np.random.default_rng(0)
    log_w = rng.normal(-50, 4, (5, 12))
    log_w[:, 8:] = 1e4  # never part of a prefix of 1, 3 or 8 chains
    curves = prefix_estimates(torch.as_tensor(log_w), CHAINS)
    for i, k in enumerate(CHAINS):
        first = log_w[:, :k]
        assert curves["lower_bound"][i] == pytest.approx(first.mean(1).mean(), rel=1e-12)
        expected = (logsumexp(first, axis=1) - math.log(k)).mean()
        assert curves["importance"][i] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="k = 13 chains asked of 12 drawn"):
        prefix_estimates(torch.as_tensor(log_w), [13])


def records_frame(settings: ConvergenceSettings, pixels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(chain_convergence(scored_model(), pixels, settings))


def test_the_last_point_is_table_3_1_s_estimator_with_the_same_seed():
    """Each repetition's largest k equals table_estimates with that k, seed and examples
    (no isotropic variance): the same draws, repetition by repetition."""
    pixels = np.random.default_rng(2).uniform(0, 1, (9, 6)).astype(np.float32)
    settings = ConvergenceSettings(chains=CHAINS, examples=5, repetitions=3, seed=7)
    records = records_frame(settings, pixels)
    direct = table_estimates(
        scored_model(),
        pixels,
        pixels,
        EvalSettings(examples=5, chains=8, repetitions=3, isotropic_examples=0, seed=7),
    )
    last = records[records["chains"] == 8].sort_values("repetition")
    for name in ("lower_bound", "importance"):
        values = last.loc[last["estimator"] == name, "value"].to_numpy()
        np.testing.assert_allclose(values, direct[name]["values"], rtol=1e-6)
    assert len(records) == 3 * len(CHAINS) * 2


def test_importance_sampling_is_never_below_the_lower_bound_on_the_same_draws():
    """Jensen: logsumexp(l) - log k >= mean(l) for every image, hence for their mean, at
    every k of every repetition; equal at k = 1."""
    pixels = np.random.default_rng(3).uniform(0, 1, (6, 6)).astype(np.float32)
    records = records_frame(ConvergenceSettings(chains=CHAINS, examples=6, repetitions=2), pixels)
    wide = records.pivot_table(index=["repetition", "chains"], columns="estimator", values="value")
    assert (wide["importance"] >= wide["lower_bound"] - 1e-9).all()
    one = wide.xs(1, level="chains")
    np.testing.assert_allclose(one["importance"], one["lower_bound"], rtol=1e-6)


def write_estimates(path, records, examples=4, proposal_from=None) -> str:
    payload = {"settings": {}, "examples": examples, "estimates": records}
    if proposal_from is not None:
        payload["proposal_from"] = proposal_from
    path.write_text(json.dumps(payload))
    return str(path)


def synthetic_records(rng, proposal="own", level=0.0) -> list[dict]:
    return [
        {
            "proposal": proposal,
            "chains": k,
            "estimator": name,
            "repetition": rep,
            "value": float(rng.normal(k + level, 1)),
        }
        for rep in range(3)
        for name in ("importance", "lower_bound")  # IS first: the table orders them
        for k in (100, 1, 10)
    ]


def test_the_table_gives_mean_and_std_over_repetitions_and_the_figure_draws_them(
    tmp_path, kept_figures
):
    """Two proposals (the configured one and the search's tightest, whose file names the
    search): a row per proposal, estimator and k, each with the mean and std of its own
    repetitions; a panel per estimator with one curve per proposal."""
    rng = np.random.default_rng(4)
    own = synthetic_records(rng)
    tight = synthetic_records(rng, proposal="paper-a0.1-w0.1-x0.5", level=50.0)
    files = [
        write_estimates(tmp_path / "c.json", own),
        write_estimates(tmp_path / "t.json", tight, proposal_from="search.json"),
    ]
    out, figure = tmp_path / "convergence.csv", tmp_path / "convergence.png"
    convergence(files, 200, out, figure, paper_chains=20000)
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "proposal", "tightest", "chains", "estimator", "mean", "std", "repetitions",
    ]  # fmt: skip
    expected_order = [
        (proposal, tightest, name, k)
        for proposal, tightest in (("own", False), ("paper-a0.1-w0.1-x0.5", True))
        for name in ("lower_bound", "importance")
        for k in (1, 10, 100)
    ]
    assert list(zip(table.proposal, table.tightest, table.estimator, table.chains,
                    strict=True)) == expected_order  # fmt: skip
    (fig,) = kept_figures
    axes = [ax for ax in fig.axes if ax.get_xscale() == "log"]
    assert len(axes) == 2
    for ax, name in zip(axes, ("lower_bound", "importance"), strict=True):
        assert len(ax.containers) == 2
        for bars, (proposal, records) in zip(
            ax.containers, (("own", own), ("paper-a0.1-w0.1-x0.5", tight)), strict=True
        ):
            for k, x, y, segment in zip(
                (1, 10, 100), *bars.lines[0].get_data(), bars.lines[2][0].get_segments(),
                strict=True,
            ):  # fmt: skip
                values = [r["value"] for r in records
                          if r["estimator"] == name and r["chains"] == k]  # fmt: skip
                row = table[(table.estimator == name) & (table.chains == k)
                            & (table.proposal == proposal)].iloc[0]  # fmt: skip
                assert (row["repetitions"], x) == (3, k)
                np.testing.assert_allclose([row["mean"], y], np.mean(values))
                np.testing.assert_allclose(row["std"], np.std(values, ddof=1))
                (_, low), (_, high) = segment
                np.testing.assert_allclose((high - low) / 2, np.std(values, ddof=1))
        marks = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--")
        assert marks == [200, 20000]
        assert ax.get_xlim()[1] > 20000
    labels = [text.get_text() for text in axes[-1].get_legend().get_texts()]
    assert "paper-a0.1-w0.1-x0.5 (tightest on validation)" in labels and "own" in labels
    assert_legends_outside_data(fig)


def test_files_of_different_test_images_stop(tmp_path):
    rng = np.random.default_rng(6)
    files = [
        write_estimates(tmp_path / "a.json", synthetic_records(rng), examples=4),
        write_estimates(tmp_path / "b.json", synthetic_records(rng), examples=5),
    ]
    with pytest.raises(ValueError, match="different test images"):
        convergence(files, 10, tmp_path / "c.csv", tmp_path / "c.png")


def test_one_repetition_has_a_zero_std(tmp_path):
    records = [r for r in synthetic_records(np.random.default_rng(5)) if r["repetition"] == 0]
    out = tmp_path / "convergence.csv"
    convergence([write_estimates(tmp_path / "c.json", records)], 10, out, tmp_path / "c.png")
    assert (pd.read_csv(out)["std"] == 0).all()
