"""The paper's text against the authors' code: the switches (rate indexing, the first rate,
training-target dequantization, Parzen's centres and test points), the ablation's variants
and run tags, its table."""

import json
import math

import numpy as np
import pytest
import torch
import yaml
from conftest import process_of, tiny_model
from scipy import stats
from scipy.special import logsumexp
from workflow_runs import REPO

from infusion import runs, switches
from infusion import study as study_module
from infusion.beyond.fidelity import fidelity_summary, fidelity_table
from infusion.settings import ModelSettings, TrainSettings

INFUSION_VAR = 1e-4


def paper_schedule(steps, alpha0, omega):
    """Section 3.3.2: z~(t) at alpha(t) = alpha(t-1) + omega, alpha(0) = alpha0."""
    rates, rate = [], alpha0
    for _ in range(steps):
        rates.append(min(rate, 1.0))
        rate += omega
    return rates


def code_schedule(steps, alpha0, omega):
    """run.py: get_first_term draws z~(0) at alpha0; then each pass of
    run_chaine_train_for's loop draws the next z~ at the current rate and adds omega
    afterwards. T draws in all (the last pass draws with rate 0: the chain's end)."""
    rates = [alpha0]  # get_first_term
    rate = alpha0
    for _ in range(steps - 1):  # passes i = 0 .. T-2 draw z~(i+1)
        rates.append(min(rate, 1.0))
        rate += omega
    return rates


def test_schedules_of_the_final_models_as_the_issue_states():
    assert paper_schedule(15, 0.0, 0.01) == pytest.approx([0.01 * t for t in range(15)])
    assert code_schedule(15, 0.0, 0.01) == pytest.approx([0.0, *(0.01 * t for t in range(14))])
    assert code_schedule(5, 0.0, 0.2) == pytest.approx([0, 0, 0.2, 0.4, 0.6])
    assert paper_schedule(5, 0.0, 0.2) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])


@pytest.mark.parametrize("index, schedule", [("paper", paper_schedule), ("code", code_schedule)])
@pytest.mark.parametrize("steps, alpha0, omega", [(15, 0.0, 0.01), (5, 0.1, 0.15), (4, 0.3, 0.4)])
def test_infusion_rates_follow_the_indexing(index, schedule, steps, alpha0, omega):
    model = tiny_model(steps=steps, alpha0=alpha0, omega=omega, rate_index=index)
    assert list(process_of(model).rates) == pytest.approx(schedule(steps, alpha0, omega), abs=1e-12)


@pytest.mark.parametrize("index, schedule", [("paper", paper_schedule), ("code", code_schedule)])
@pytest.mark.parametrize("steps, alpha0, omega", [(15, 0.0, 0.01), (5, 0.3, 0.15), (4, 0.2, 0.4)])
def test_the_growth_first_rate_starts_both_indexings_at_omega(
    index, schedule, steps, alpha0, omega
):
    """run.py's hyperparameters give infuse_rate (alpha0) infuse_rate_growth's value (omega,
    0.02 both): the schedules above with
    alpha0 replaced by omega (the model's own chain and the own proposal alike)."""
    from infusion.process.proposals import Proposal

    model = tiny_model(steps=steps, alpha0=alpha0, omega=omega, rate_index=index,
                       first_rate="growth")  # fmt: skip
    expected = schedule(steps, omega, omega)
    assert list(process_of(model).rates) == pytest.approx(expected, abs=1e-12)
    assert Proposal().rates(model.settings) == pytest.approx(expected, abs=1e-12)


def test_the_growth_first_rate_by_hand():
    """omega 0.3, 5 steps: paper 0.3, 0.6, 0.9, 1 (clipped), 1; code 0.3, 0.3, 0.6, 0.9, 1."""
    for index, expected in (("paper", [0.3, 0.6, 0.9, 1.0, 1.0]),
                            ("code", [0.3, 0.3, 0.6, 0.9, 1.0])):  # fmt: skip
        model = tiny_model(steps=5, alpha0=0.05, omega=0.3, rate_index=index, first_rate="growth")
        assert list(process_of(model).rates) == pytest.approx(expected, abs=1e-12), index


@pytest.mark.parametrize("index, schedule", [("paper", paper_schedule), ("code", code_schedule)])
def test_the_chain_draws_at_the_indexing_rates(index, schedule):
    """The fraction of pixels the chain actually infuses at each step, over 200,000 draws a
    step, lies within 5 standard errors of the schedule's rate."""
    steps, alpha0, omega = 5, 0.1, 0.15
    model = tiny_model(dim=50, steps=steps, alpha0=alpha0, omega=omega, rate_index=index)
    x = torch.rand(4000, 50, generator=torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        walked = process_of(model).walk(model, x, generator)
        drawn = [s.infused.float().mean().item() for s in walked if s.infused is not None]
    expected = schedule(steps, alpha0, omega)
    assert len(drawn) == steps
    for fraction, rate in zip(drawn, expected, strict=True):
        assert abs(fraction - rate) < 5 * math.sqrt(rate * (1 - rate) / x.numel()) + 1e-9


@pytest.mark.parametrize("index, schedule", [("paper", paper_schedule), ("code", code_schedule)])
def test_the_bound_scores_q_at_the_rates_drawn_with(index, schedule):
    """InfusionProcess.log_weights' chain term against scipy: log p(t) - log q(t) per pixel
    with q the mixture at the schedule's rate, on the chain's own draws (same generator
    seed)."""
    steps = 4
    model = tiny_model(dim=6, steps=steps, alpha0=0.2, omega=0.25, rate_index=index).double()
    x = torch.rand(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        walked = list(process_of(model).walk(model, x, torch.Generator().manual_seed(4)))
        weights = process_of(model).log_weights(model, x, torch.Generator().manual_seed(4))
    rates = schedule(steps, 0.2, 0.25)
    expected = np.zeros(7)
    xs = x.numpy()
    for s in walked[:-1]:  # t = 0 .. T-1: the infused draws
        z = s.z.numpy()
        mean = np.broadcast_to(s.mean.numpy(), z.shape)
        sd = np.sqrt(np.broadcast_to(s.var.numpy(), z.shape))
        log_p = stats.norm.logpdf(z, mean, sd)
        a = rates[s.t]
        log_q = np.logaddexp(np.log1p(-a) + log_p, np.log(a) + stats.norm.logpdf(z, xs, 0.01))
        expected += (log_p - log_q).sum(1)
    np.testing.assert_allclose(weights.chain.numpy(), expected, rtol=1e-6)


def test_switches_reject_unknown_names():
    with pytest.raises(ValueError, match="rate_index"):
        ModelSettings(rate_index="paper+1")
    for key in ("first_rate", "channel_mask"):
        with pytest.raises(ValueError, match=f"{key} must be one of"):
            ModelSettings(**{key: "code"})
    for key in ("keep", "last_batch"):
        with pytest.raises(ValueError, match=f"{key} must be one of"):
            TrainSettings(**{key: "all"})
    from infusion.settings import ParzenSettings

    with pytest.raises(ValueError, match="chain_steps"):
        ParzenSettings(chain_steps="last")


def captured_targets(digits_npz, tmp_path, dequantize_targets):
    """The training targets one epoch hands to the objective, and the training set."""
    from infusion.data.registry import load
    from infusion.training.trainer import Trainer

    trainer = Trainer(
        ModelSettings(steps=2, hidden=8),
        TrainSettings(epochs=1, batch_size=128, curve_examples=50, parzen_every=0,
                      dequantize_targets=dequantize_targets),
        load(digits_npz), tmp_path, tmp_path / "ckpt.pt",
    )  # fmt: skip
    seen = []

    def objective(model, x, generator):
        seen.append(x.clone())
        return sum(p.sum() for p in model.parameters()) * 0.0

    trainer.objective = objective
    trainer.train_epoch()
    return torch.cat(seen).double(), trainer.x_train.double()


def test_training_targets_are_exact_pixels_by_default(digits_npz, tmp_path):
    targets, _ = captured_targets(digits_npz, tmp_path, False)
    scaled = targets * 256
    assert torch.equal(scaled, scaled.round())  # k / 256 exactly: no noise


def test_dequantized_training_targets_get_uniform_noise_of_one_level(digits_npz, tmp_path):
    """run.py: batch[0] + U(0, 1/256): each target pixel k/256 + u/256, u ~ U(0, 1), drawn
    afresh (a Kolmogorov-Smirnov test of u against the uniform law; neighbours uncorrelated)."""
    targets, x_train = captured_targets(digits_npz, tmp_path, True)
    scaled = targets * 256
    levels, u = scaled.floor(), (scaled - scaled.floor()).flatten().numpy()
    assert set(levels.unique().tolist()) <= set((x_train * 256).round().unique().tolist())
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02  # a fresh draw per pixel


def test_samples_keep_the_means_after_the_training_steps(tmp_path):
    """training_steps_means: what a T-step sampling chain's last means are (the authors'
    Parzen centres), from a chain of more steps on the same generator seed."""
    from infusion.sampling.samples import sample_chains
    from infusion.settings import SampleSettings

    model = tiny_model(dim=5, steps=3)
    settings = SampleSettings(samples=40, sampling_steps=7, figure_chains=2, batch=40, seed=5)
    out = sample_chains(model, settings)
    short = SampleSettings(samples=40, sampling_steps=3, figure_chains=2, batch=40, seed=5)
    t_step = sample_chains(model, short)["means"]
    np.testing.assert_array_equal(out["training_steps_means"], t_step)
    assert not np.allclose(out["means"], t_step)
    _, means = process_of(model).sample(model, 40, 3, torch.Generator().manual_seed(5), 1e-5)
    np.testing.assert_allclose(out["training_steps_means"], means[-1].numpy(), rtol=1e-6)


def reference_parzen(centres, points, sigma):
    d = points.shape[1]
    sq = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    return (
        logsumexp(-sq / (2 * sigma**2), axis=1)
        - math.log(len(centres))
        - d * math.log(sigma * math.sqrt(2 * math.pi))
    )


@pytest.mark.parametrize("dequantize_test", [True, False])
@pytest.mark.parametrize("chain_steps", ["sampling", "training"])
def test_parzen_command_scores_both_centres_at_both_test_points(
    digits_npz, tmp_path, chain_steps, dequantize_test
):
    """by_test_points: each (test points, centres) cell against the numpy estimate, on the
    points plus U(0, 1/256) (one generator seeded --seed) or the pixels / 256 as they are;
    the headline and by_chain_steps are those of --dequantize-test's points."""
    from infusion.cli import main
    from infusion.data.registry import load

    rng = np.random.default_rng(0)
    means = rng.uniform(0, 1, (60, 64)).astype(np.float32)
    t_means = rng.uniform(0, 1, (60, 64)).astype(np.float32)
    np.savez(tmp_path / "s.npz", means=means, training_steps_means=t_means)
    out = tmp_path / "p.json"
    main(["parzen", "--samples", str(tmp_path / "s.npz"), "--data", str(digits_npz),
          "--out", str(out), "--split", "test", "--examples", "30", "--seed", "3",
          "--sigma", "0.3", "--chain-steps", chain_steps,
          "--dequantize-test", str(dequantize_test).lower()])  # fmt: skip
    result = json.loads(out.read_text())
    raw = load(digits_npz)["test"][:30].reshape(30, -1).astype(np.float64) / 256
    noise = torch.rand(raw.shape, generator=torch.Generator().manual_seed(3)).double().numpy()
    for points_name, points in (("dequantized", raw + noise / 256), ("raw", raw)):
        for centres, array in (("sampling", means), ("training", t_means)):
            expected = reference_parzen(array.astype(np.float64), points, 0.3).mean()
            cell = result["by_test_points"][points_name][centres]["mean"]
            assert cell == pytest.approx(expected, rel=1e-5), (points_name, centres)
    headline_points = "dequantized" if dequantize_test else "raw"
    assert result["by_chain_steps"] == result["by_test_points"][headline_points]
    headline = result["by_chain_steps"][chain_steps]["mean"]
    assert result["chain_steps"] == chain_steps and result["mean"] == headline
    assert result["dequantize_test"] is dequantize_test


PAPER = {
    ("model", "rate_index"): "paper", ("model", "first_rate"): "alpha0", ("model", "layers"): 2,
    ("training", "dequantize_targets"): False, ("parzen", "chain_steps"): "sampling",
    ("training", "keep"): "best", ("training", "statistics_dequantize"): False,
    ("training", "last_batch"): "drop", ("model", "channel_mask"): "element",
    ("parzen", "dequantize_test"): True,
}  # fmt: skip
CODE = {
    ("model", "rate_index"): "code", ("model", "first_rate"): "alpha0", ("model", "layers"): 1,
    ("training", "dequantize_targets"): True, ("parzen", "chain_steps"): "training",
    ("training", "keep"): "last", ("training", "statistics_dequantize"): True,
    ("training", "last_batch"): "keep", ("model", "channel_mask"): "pixel",
    ("parzen", "dequantize_test"): False,
}  # fmt: skip


def test_variants_flip_one_switch_each_and_code_flips_all_but_the_first_rate():
    """The first rate is another reading of run.py: a variant of its own, not the code's."""
    assert switches.variant_values("paper") == PAPER
    assert switches.variant_values("code") == CODE
    for name in switches.SWITCH_NAMES:
        changed = {k for k, v in switches.variant_values(name).items() if v != PAPER[k]}
        assert len(changed) == 1, name
    assert switches.variant_values("first_rate")[("model", "first_rate")] == "growth"
    with pytest.raises(ValueError, match="unknown fidelity variant"):
        switches.variant_values("papers")


def test_switch_defaults_are_the_papers_text_and_the_overlay_the_code():
    """config.yaml and the settings' defaults hold the text's values; authors-code.yaml
    every switch's code value (parsed here from the files)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    overlay = yaml.safe_load((REPO / "workflow/configs/authors-code.yaml").read_text())
    defaults = study_module.defaults()
    for switch in switches.SWITCHES:
        assert defaults[switch.section][switch.key] == PAPER[switch.section, switch.key]
        assert config[switch.section][switch.key] == switch.paper, switch.name
        if switch.in_code:
            assert overlay[switch.section][switch.key] == switch.code, switch.name
        else:  # named there as a commented line, the other reading of run.py
            assert switch.key not in overlay[switch.section], switch.name
            line = f"# {switch.key}: {switch.code}"
            assert line in (REPO / "workflow/configs/authors-code.yaml").read_text()


def ablation_rows(config) -> list[tuple[str, int, str]]:
    """(variant, seed, tag) of every row of the ablation table."""
    return [(run.variant, run.seed, run.tag) for run in runs.ablation_runs(config)]


def study(**fidelity_section):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["fidelity"] = {"enabled": True, "seeds": [0, 1, 2]} | fidelity_section
    config["lower_bound_training"]["enabled"] = False  # its tags: test_lower_bound_training.py
    return config


CODE_TAG = (
    "_rate_index-code_layers-1_dequantize_targets-true_keep-last_statistics_dequantize-true"
    "_last_batch-keep"
)
CODE_TRAINED = {
    ("model", "rate_index"): "code", ("model", "layers"): 1,
    ("training", "dequantize_targets"): True, ("training", "keep"): "last",
    ("training", "statistics_dequantize"): True, ("training", "last_batch"): "keep",
}  # fmt: skip


def test_run_tags_name_what_differs_from_the_study():
    """MNIST (1 channel): the channel mask is left out; the two Parzen switches train
    nothing, so their rows are the paper variant's runs."""
    config = study()
    tags = runs.run_tags(config)
    assert "" in tags and tags[""] == {("training", "seed"): 0}
    assert tags["_layers-1_seed2"] == {("model", "layers"): 1, ("training", "seed"): 2}
    assert tags["_first_rate-growth"] == {("model", "first_rate"): "growth",
                                          ("training", "seed"): 0}  # fmt: skip
    assert tags["_last_batch-keep_seed1"] == {("training", "last_batch"): "keep",
                                              ("training", "seed"): 1}  # fmt: skip
    assert tags[CODE_TAG + "_seed1"] == CODE_TRAINED | {("training", "seed"): 1}
    # 9 trained variants (paper, 7 training switches, code) x 3 seeds
    assert len(tags) == 27 and not any("channel_mask" in tag for tag in tags)
    assert len(runs.ablation_tags(config)) == 26  # the paper variant's seed 0 is the study's
    rows = ablation_rows(config)
    assert [v for v, seed, _ in rows if seed == 0] == [
        "paper", "rate_index", "first_rate", "layers", "dequantize_targets", "parzen_centres",
        "keep", "statistics_dequantize", "last_batch", "parzen_test_points", "code"]  # fmt: skip
    assert len(rows) == 11 * 3
    for scoring_only in ("parzen_centres", "parzen_test_points"):
        assert {tag for v, _, tag in rows if v == scoring_only} == {"", "_seed1", "_seed2"}


def test_a_colour_study_trains_the_channel_mask_too():
    config = study()
    config["dataset"] = "shapes16"
    tags = runs.run_tags(config)
    assert tags["_channel_mask-pixel_seed2"] == {("model", "channel_mask"): "pixel",
                                                ("training", "seed"): 2}  # fmt: skip
    code = CODE_TRAINED | {("model", "channel_mask"): "pixel", ("training", "seed"): 0}
    assert tags[CODE_TAG + "_channel_mask-pixel"] == code
    assert len(tags) == 30 and len(ablation_rows(config)) == 12 * 3


def test_run_tags_under_the_authors_code_overlay_flip_back_to_the_text():
    config = study()
    for switch in switches.SWITCHES:
        if switch.in_code:
            config[switch.section][switch.key] = switch.code
    tags = runs.run_tags(config)
    back = ("_rate_index-paper_layers-2_dequantize_targets-false_keep-best"
            "_statistics_dequantize-false_last_batch-drop")  # fmt: skip
    assert tags[back] == {
        ("model", "rate_index"): "paper", ("model", "layers"): 2,
        ("training", "dequantize_targets"): False, ("training", "keep"): "best",
        ("training", "statistics_dequantize"): False, ("training", "last_batch"): "drop",
        ("training", "seed"): 0,
    }  # fmt: skip
    rows = ablation_rows(config)
    assert ("code", 0, "") in rows
    growth = back.replace("paper", "paper_first_rate-growth")  # the text's, and omega first
    assert ("first_rate", 0, growth) in rows


def test_study_seeds_get_tags_and_the_disabled_ablation_none():
    config = study(enabled=False)
    config["training"]["seeds"] = [3, 0]
    assert runs.run_tags(config) == {
        "": {("training", "seed"): 3},
        "_seed0": {("training", "seed"): 0},
    }


def write_estimates(folder, name, lower_bound, importance, parzen_cells):
    """parzen_cells: {(test points, centres): mean}."""
    likelihood = folder / f"{name}-l.json"
    parzen = folder / f"{name}-p.json"
    likelihood.write_text(json.dumps({"settings": {"split": "test"}, "proposal": f"p-{name}",
                                      "lower_bound": {"mean": lower_bound},
                                      "importance": {"mean": importance}}))  # fmt: skip
    by_points = {}
    for (points, centres), mean in parzen_cells.items():
        by_points.setdefault(points, {})[centres] = {"mean": mean}
    parzen.write_text(json.dumps({"split": "test", "by_chain_steps": by_points["dequantized"],
                                  "by_test_points": by_points}))  # fmt: skip
    return str(likelihood), str(parzen)


CELLS = [(p, c) for p in ("dequantized", "raw") for c in ("sampling", "training")]


def test_fidelity_table_takes_each_variants_parzen_centres_and_test_points(tmp_path):
    runs, values = {"likelihood": [], "parzen": [], "variant": [], "seed": []}, {}
    for i, variant in enumerate(switches.VARIANTS):
        for seed in (0, 1):
            cells = {cell: 50.0 + 10 * j + seed for j, cell in enumerate(CELLS)}
            values[variant, seed] = (100.0 + i + seed, 110.0 + i, cells)
            likelihood, parzen = write_estimates(
                tmp_path, f"{variant}{seed}", *values[variant, seed]
            )
            for key, value in zip(runs, (likelihood, parzen, variant, seed), strict=True):
                runs[key].append(value)
    table = fidelity_table(**runs, out=tmp_path / "fidelity.csv")
    read = table.set_index(["variant", "seed"])
    for (variant, seed), (lb, is_, cells) in values.items():
        assert read.loc[(variant, seed), "test_lower_bound"] == lb
        assert read.loc[(variant, seed), "importance_sampling"] == is_
        assert read.loc[(variant, seed), "proposal"] == f"p-{variant}{seed}"
        centres = "training" if variant in ("parzen_centres", "code") else "sampling"
        points = "raw" if variant in ("parzen_test_points", "code") else "dequantized"
        assert read.loc[(variant, seed), "parzen"] == cells[points, centres], variant
        assert read.loc[(variant, seed), "parzen_centres"] == centres
        assert read.loc[(variant, seed), "parzen_test_points"] == points
    assert "model.layers: 1" in read.loc[("layers", 0), "changes"]
    assert read.loc[("paper", 0), "changes"].startswith("none")
    summary = fidelity_summary(table)
    assert list(summary.index) == list(switches.VARIANTS)
    code = 100.0 + switches.VARIANTS.index("code")  # its seed-0 bound; seed 1's is one more
    assert summary.loc["code", ("test_lower_bound", "mean")] == pytest.approx(code + 0.5)
    assert summary.loc["code", ("test_lower_bound", "std")] == pytest.approx(
        np.std([code, code + 1], ddof=1)
    )
    assert "first_rate" not in read.loc[("code", 0), "changes"]


def test_fidelity_caption_names_every_switch():
    caption = (REPO / "workflow/report/fidelity.rst").read_text()
    for switch in switches.SWITCHES:
        assert f"{switch.section}.{switch.key}" in caption, switch.name
        assert f"**{switch.name}**" in caption


def test_fidelity_table_needs_one_of_each_input_a_run(tmp_path):
    likelihood, parzen = write_estimates(tmp_path, "paper0", 1.0, 2.0, dict.fromkeys(CELLS, 3.0))
    with pytest.raises(ValueError, match="one likelihood, parzen, variant and seed a run"):
        fidelity_table([likelihood], [parzen], ["paper", "code"], [0], tmp_path / "f.csv")
    assert not (tmp_path / "f.csv").exists()


def test_fidelity_variants_keep_the_named_ones_in_table_order_and_code_whole():
    config = study(variants=["code", "paper", "first_rate"])
    rows = ablation_rows(config)
    assert [v for v, _, _ in rows] == [v for v in ("paper", "first_rate", "code") for _ in range(3)]
    code_tag = dict(((v, s), t) for v, s, t in rows)[("code", 0)]
    assert code_tag == dict(((v, s), t) for v, s, t in ablation_rows(study()))[("code", 0)]


def test_an_unknown_fidelity_variant_stops_naming_the_key():
    from infusion import study as study_config

    config = study(variants=["paper", "no_such_switch"])
    with pytest.raises(study_config.ConfigError, match=r"fidelity\.variants"):
        study_config.validate_config(config)
