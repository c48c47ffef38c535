"""The proposal q that scores a model: its schedule, its estimates against the float64
reference and exact likelihoods, the default's numbers, and bad input."""

import copy
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import population_log_weights, tiny_model
from reference import NoiseFeeder, NumpyMLP, infusion_chain, log_weight
from scipy.special import logsumexp
from test_estimators import exact_log_likelihood, fitted_model, toy_model

from infusion import study
from infusion.cli import main
from infusion.data.registry import to_unit_interval
from infusion.estimation import evaluation
from infusion.estimation.against_k import chain_convergence
from infusion.nets.model import save_model
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.infusion_process import (
    InfusionProcess,
    isotropic_variance,
    lower_bound_and_importance,
)
from infusion.process.proposals import Proposal, parse_proposal
from infusion.settings import ConvergenceSettings, EvalSettings, ModelSettings

ROOT = Path(__file__).resolve().parent.parent

# --- the schedule, written by hand from alpha(t) = alpha0 + t * omega -------------------

PAPER = ModelSettings(steps=4, alpha0=0.1, omega=0.2)  # own rates 0.1, 0.3, 0.5, 0.7
CODE = ModelSettings(steps=4, alpha0=0.1, omega=0.2, rate_index="code")  # 0.1, 0.1, 0.3, 0.5


@pytest.mark.parametrize(
    "name, model, expected",
    [
        ("own", PAPER, [0.1, 0.3, 0.5, 0.7]),
        ("own", CODE, [0.1, 0.1, 0.3, 0.5]),
        # every rate times the scale, alpha0's and omega's part alike
        ("own-x0.5", PAPER, [0.05, 0.15, 0.25, 0.35]),
        ("own-x0.5", CODE, [0.05, 0.05, 0.15, 0.25]),
        ("own-x1.4", PAPER, [0.14, 0.42, 0.7, 0.98]),
        ("own-x0", PAPER, [0.0, 0.0, 0.0, 0.0]),
        # a schedule of its own, whatever the model's: only the model's T is used
        ("paper-a0-w0.1", CODE, [0.0, 0.1, 0.2, 0.3]),
        ("code-a0-w0.1", PAPER, [0.0, 0.0, 0.1, 0.2]),
        ("code-a0.05-w0.3", PAPER, [0.05, 0.05, 0.35, 0.65]),
        ("paper-a0.2-w0.4", PAPER, [0.2, 0.6, 1.0, 1.0]),  # clipped at 1 (footnote 2)
        ("paper-a0.2-w0.1-x2", PAPER, [0.4, 0.6, 0.8, 1.0]),
        ("code-a0.2-w0-x0.25", CODE, [0.05, 0.05, 0.05, 0.05]),
    ],
)
def test_a_proposal_s_rates_are_the_schedule_by_hand(name, model, expected):
    assert parse_proposal(name).rates(model) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "text, name",
    [
        ("own", "own"),
        ("own-x1", "own"),
        ("own-x1.50", "own-x1.5"),
        ("paper-a0.0-w0.10", "paper-a0-w0.1"),
        ("code-a.5-w0", "code-a0.5-w0"),
        ("paper-a0.00001-w1-x0.3", "paper-a0.00001-w1-x0.3"),
    ],
)
def test_a_proposal_s_name_is_canonical_and_parses_back(text, name):
    proposal = parse_proposal(text)
    assert proposal.name == name
    assert parse_proposal(name) == proposal


def test_the_default_proposal_is_the_model_s_own_chain():
    assert EvalSettings().proposal == ConvergenceSettings().proposal == "own"
    assert parse_proposal("own") == Proposal()


# --- the estimates under a foreign proposal against the reference --------------------------


@pytest.mark.parametrize(
    "name, rates",
    [
        ("code-a0.2-w0.25", [0.2, 0.2, 0.45]),
        ("own-x0.5", [0.05, 0.2, 0.35]),
        ("paper-a0-w0.5", [0.0, 0.5, 1.0]),  # q^(2) = N(x, infusion_var): all infused
    ],
)
def test_the_bound_and_is_under_a_foreign_proposal_equal_the_numpy_reference(name, rates):
    """The model's own rates are 0.1, 0.4, 0.7; q's rates are written by hand. The reference
    makes q's masks from the uniforms the package drew and those rates (a package drawing
    at the model's rates, or scoring log q at them, differs), runs the model's p (numpy MLP)
    on them, and scores l = log p(z~, x) - log q(z~ | x) with q's rates; the lower bound and
    IS estimate are mean(l) and logsumexp(l) - log k per example."""
    model = fitted_model(dim=4, steps=3, alpha0=0.1, omega=0.3)
    x, chains = torch.rand(5, 4, generator=torch.Generator().manual_seed(5)), 7
    own_rates = parse_proposal(name).rates(model.settings)
    with NoiseFeeder(3) as feed:
        weights = population_log_weights(
            model, x, chains, torch.Generator().manual_seed(3), 4096, own_rates
        )
    targets = np.repeat(x.double().numpy(), chains, axis=0)
    masks = [uniform < rate for uniform, rate in zip(feed.uniforms, rates, strict=True)]
    reference = infusion_chain(NumpyMLP.of(model), model.prior_mean.double().numpy(),
                               model.prior_var.double().numpy(), targets, feed.normals, masks,
                               1e-4, population=True)  # fmt: skip
    with np.errstate(divide="ignore"):  # log(0) of an absent mixture component
        expected = log_weight(reference, targets, rates, 1e-4).reshape(5, chains)
    np.testing.assert_allclose(weights.total.numpy(), expected, rtol=1e-5, atol=1e-3)
    lower, importance = lower_bound_and_importance(weights.total.double())
    np.testing.assert_allclose(lower.numpy(), expected.mean(1), rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(
        importance.numpy(), logsumexp(expected, 1) - math.log(chains), rtol=1e-6, atol=1e-3
    )


@pytest.mark.parametrize("name", ["paper-a0.1-w0.1", "own-x0.5", "code-a0-w0.5"])
def test_is_under_a_foreign_proposal_matches_numerical_integration(name):
    """Any q whose rates lie in [0, 1] covers p's support: its IS estimate converges to the
    exact log p(x) (here a 2-step, 1-pixel model integrated on grids), and its bound stays
    below."""
    model = toy_model(2)  # own rates 0.3, 0.5
    points = [0.05, 0.4, 0.8]
    x = torch.tensor(points, dtype=torch.float64)[:, None]
    rates = parse_proposal(name).rates(model.settings)
    assert rates != pytest.approx([0.3, 0.5])
    generator = torch.Generator().manual_seed(1)
    weights = population_log_weights(model, x, 20_000, generator, 100_000, rates)
    lower, importance = lower_bound_and_importance(weights.total)
    for i, point in enumerate(points):
        exact = exact_log_likelihood(model, point)
        assert importance[i].item() == pytest.approx(exact, abs=0.03), (point, exact)
        assert lower[i].item() < exact


# --- the default leaves the numbers as they were ------------------------------------------


def scored_model(rate_index="paper"):
    """A tiny model with a fitted prior, normalising by its population statistics as the
    scoring commands leave a loaded model."""
    model = tiny_model(dim=4, steps=3, alpha0=0.1, omega=0.2, rate_index=rate_index)
    model.fit_prior(torch.rand(64, 4, generator=torch.Generator().manual_seed(8)))
    set_batch_norm_mode(model.operator, POPULATION)
    return model


def table(model, proposal=None):
    pixels = np.random.default_rng(9).integers(0, 256, (2, 20, 4), dtype=np.uint8)
    test, valid = (to_unit_interval(p) for p in pixels)
    chosen = {} if proposal is None else {"proposal": proposal}
    settings = EvalSettings(examples=20, chains=6, repetitions=2, isotropic_examples=20,
                            isotropic_chains=3, device="cpu", **chosen)  # fmt: skip
    return evaluation.table_estimates(model, test, valid, settings)


@pytest.mark.parametrize(
    "rate_index, same_schedule", [("paper", "paper-a0.1-w0.2"), ("code", "code-a0.1-w0.2")]
)
def test_the_model_s_own_chain_gives_the_numbers_of_its_schedule_spelled_out(
    rate_index, same_schedule
):
    """Without a proposal, with own, and with the model's schedule spelled out: the same
    draws, bit for bit (the default is the training chain, as before proposals)."""
    default = table(scored_model(rate_index))
    assert default["proposal"] == "own"
    assert table(scored_model(rate_index), "own") == default
    spelled = table(scored_model(rate_index), same_schedule)
    assert spelled["proposal"] == same_schedule
    assert {k: v for k, v in spelled.items() if k != "proposal"} == {
        k: v for k, v in default.items() if k != "proposal"
    }
    other = table(scored_model(rate_index), "own-x0.5")
    assert other["proposal"] == "own-x0.5"
    assert other["lower_bound"]["values"] != default["lower_bound"]["values"]


def test_table_3_1_and_convergence_draw_every_chain_under_the_proposal():
    """Table 3.1's estimates (the isotropic variance's validation draws included) and the
    convergence curve under own-x0.5, replayed from draw_log_weights at the rates by hand
    (0.05, 0.15, 0.25) in the same generator order: dequantize, then draw."""
    from infusion.data.registry import dequantize

    rates = [0.05, 0.15, 0.25]
    pixels = np.random.default_rng(9).integers(0, 256, (2, 20, 4), dtype=np.uint8)
    test, valid = (torch.as_tensor(to_unit_interval(p)) for p in pixels)
    got = table(scored_model(), "own-x0.5")
    generator = torch.Generator().manual_seed(EvalSettings().seed)
    model = scored_model()
    valid_weights = population_log_weights(
        model, dequantize(valid, generator), 3, generator, 16384, rates
    )
    iso_var = isotropic_variance(valid_weights)
    assert got["isotropic_var"] == iso_var
    for rep in range(2):
        w = population_log_weights(model, dequantize(test, generator), 6, generator, 16384, rates)
        for key, total in (
            ("lower_bound", w.total),
            ("iso_lower_bound", w.isotropic_total(iso_var)),
        ):
            assert got[key]["values"][rep] == float(total.mean(1).double().mean())
    settings = ConvergenceSettings(chains=[2, 6], examples=20, repetitions=1, device="cpu",
                                   proposal="own-x0.5")  # fmt: skip
    records = chain_convergence(scored_model(), to_unit_interval(pixels[0]), settings)
    generator = torch.Generator().manual_seed(ConvergenceSettings().seed)
    w = population_log_weights(model, dequantize(test, generator), 6, generator, 16384, rates)
    bound = [r["value"] for r in records if r["estimator"] == "lower_bound" and r["chains"] == 6]
    assert bound == [float(w.total.mean(1).double().mean())]


def test_draws_without_rates_are_the_model_s_own():
    model = scored_model()
    x = torch.rand(3, 4, generator=torch.Generator().manual_seed(2))
    plain = population_log_weights(model, x, 5, torch.Generator().manual_seed(4), 64)
    own = population_log_weights(
        model, x, 5, torch.Generator().manual_seed(4), 64, Proposal().rates(model.settings)
    )
    assert torch.equal(plain.total, own.total)


def test_convergence_records_name_their_proposal():
    pixels = to_unit_interval(np.random.default_rng(1).integers(0, 256, (4, 4), dtype=np.uint8))
    settings = ConvergenceSettings(chains=[1, 3], examples=4, repetitions=1, device="cpu",
                                   proposal="paper-a0-w0.10")  # fmt: skip
    records = chain_convergence(scored_model(), pixels, settings)
    assert {r["proposal"] for r in records} == {"paper-a0-w0.1"}


# --- bad input stops before any work, naming the key ---------------------------------------


@pytest.mark.parametrize(
    "text, problem",
    [
        ("paper-a1.5-w0.1", "alpha0 1.5 leaves"),
        ("code-a0-w2", "omega 2 leaves"),
        ("own-x-1", "names no proposal"),
        ("sideways", "names no proposal"),
        ("own-a0-w0.1", "names no proposal"),
    ],
)
@pytest.mark.parametrize("command", ["evaluate", "convergence"])
def test_a_bad_proposal_flag_stops_before_the_model_is_read(command, text, problem, caplog):
    """The flag is checked with the command's settings: the model file does not even exist."""
    with pytest.raises(SystemExit) as stopped, caplog.at_level(logging.ERROR):
        main([command, "--model", "absent.pt", "--data", "absent.npz", "--out", "o.json",
              "--proposal", text])  # fmt: skip
    assert stopped.value.code == 1
    (record,) = caplog.records
    assert record.getMessage().startswith("--proposal: ") and problem in record.getMessage()


def test_a_scale_past_one_for_the_model_stops_before_any_draw(tmp_path, caplog, monkeypatch):
    """own-x2 doubles rates up to 0.5 to 1.0 (allowed) and own-x3 to 1.5 (refused), on a
    model read from its file: one line naming the flag, the rate and the model, no draws."""
    model = tiny_model(dim=4, steps=3, alpha0=0.1, omega=0.2)  # rates 0.1, 0.3, 0.5
    save_model(model, tmp_path / "model.pt")
    np.savez(tmp_path / "d.npz", **{split: np.zeros((5, 1, 1, 4), np.uint8)
                                    for split in ("train", "valid", "test")})  # fmt: skip

    def no_draws(*args, **kwargs):
        raise AssertionError("drew chains")

    monkeypatch.setattr(InfusionProcess, "draw_log_weights", no_draws)
    with pytest.raises(SystemExit), caplog.at_level(logging.ERROR):
        main(["evaluate", "--model", str(tmp_path / "model.pt"), "--data",
              str(tmp_path / "d.npz"), "--out", str(tmp_path / "o.json"), "--proposal", "own-x3",
              "--device", "cpu"])  # fmt: skip
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("--proposal: proposal 'own-x3': rate 1.5 of z~(2) leaves [0, 1]")
    assert "3 steps, alpha0 0.1, omega 0.2" in message
    assert not (tmp_path / "o.json").exists()
    assert parse_proposal("own-x2").rates(model.settings) == pytest.approx([0.2, 0.6, 1.0])


CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())


@pytest.mark.parametrize("section", ["evaluation", "grid_evaluation", "convergence"])
@pytest.mark.parametrize(
    "text, problem",
    [
        ("paper-a1.5-w0", "alpha0 1.5 leaves [0, 1]"),
        ("nonsense", "names no proposal"),
        # panel (a) of the paper's grid trains one step at alpha0 0.9: 1.2 x 0.9 > 1
        ("own-x1.2", "rate 1.08 of z~(0) leaves [0, 1] for a model of 1 steps, alpha0 0.9"),
    ],
)
def test_a_bad_proposal_in_the_config_stops_at_validation_naming_the_key(section, text, problem):
    config = copy.deepcopy(CONFIG)
    config[section]["proposal"] = text
    with pytest.raises(study.ConfigError) as error:
        study.validate_config(config)
    message = str(error.value)
    assert message.startswith(f"invalid config key '{section}.proposal': ")
    assert problem in message and "\n" not in message


def test_a_config_s_proposals_pass_validation_and_reach_the_flags():
    config = copy.deepcopy(CONFIG)
    config["evaluation"]["proposal"] = "code-a0-w0.01-x1.5"
    study.validate_config(config)
    assert config["convergence"]["proposal"] == config["grid_evaluation"]["proposal"] == "own"
