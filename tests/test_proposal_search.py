"""The tightest proposal on validation: the candidates by hand, the search against a brute-force
loop over Table 3.1's estimator, --proposal-from, and bad input."""

import copy
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from conftest import tiny_model

from infusion import study
from infusion.cli import main
from infusion.data.registry import to_unit_interval
from infusion.estimation import proposal_search
from infusion.estimation.evaluation import table_estimates
from infusion.nets.model import save_model
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.proposals import parse_proposal
from infusion.settings import EvalSettings, ModelSettings, SearchSettings

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())


# --- the candidates, written out by hand from alpha(t) = alpha0 + t * omega ---------------


def by_hand(steps, alpha0, omega, shift, scale):
    """The rates of z~(0..T-1): alpha(max(t - shift, 0)) clipped to [0, 1], times scale."""
    return [scale * min(alpha0 + max(t - shift, 0) * omega, 1.0) for t in range(steps)]


def candidates(model, scales):
    found = proposal_search.candidate_proposals(model, SearchSettings(scales=scales))
    return [(p.name, p.rates(model)) for p in found]


def test_the_candidates_of_an_increasing_schedule():
    """5 steps, alpha0 0, omega 0.1 (paper indexing, own rates 0, 0.1, ..., 0.4): alpha0 in
    {0, 0.1} (the model's alpha0 is 0), both indexings, every scale; paper-a0-w0.1 at
    scale 1 is the model's own chain, left out."""
    model = ModelSettings(steps=5, alpha0=0.0, omega=0.1)
    scales = [0.25, 0.5, 0.75, 1.0, 1.5]
    expected = [("own", [0.0, 0.1, 0.2, 0.3, 0.4])]
    for index, shift in (("paper", 0), ("code", 1)):
        for alpha0 in (0.0, 0.1):
            for scale in scales:
                if (index, alpha0, scale) != ("paper", 0.0, 1.0):
                    suffix = "" if scale == 1.0 else f"-x{scale:g}"
                    name = f"{index}-a{alpha0:g}-w0.1{suffix}"
                    expected.append((name, by_hand(5, alpha0, 0.1, shift, scale)))
    found = candidates(model, scales)
    assert [name for name, _ in found] == [name for name, _ in expected]
    assert len(found) == 20
    for (name, rates), (_, hand) in zip(found, expected, strict=True):
        assert rates == pytest.approx(hand, abs=1e-12), name
    assert dict(found)["code-a0.1-w0.1-x1.5"] == pytest.approx([0.15, 0.15, 0.3, 0.45, 0.6])


def test_the_candidates_of_a_constant_rate_model():
    """alpha0 0.2, omega 0: alpha0 in {0, 0.2}; every schedule is constant, both indexings
    alike, so only rates 0 (once) and 0.1 are new beside the own 0.2."""
    model = ModelSettings(steps=3, alpha0=0.2, omega=0.0)
    assert candidates(model, [0.5, 1.0]) == [
        ("own", [0.2, 0.2, 0.2]),
        ("paper-a0-w0-x0.5", [0.0, 0.0, 0.0]),
        ("paper-a0.2-w0-x0.5", [0.1, 0.1, 0.1]),
    ]


def test_a_candidate_whose_scaled_rate_passes_one_is_left_out_and_logged(caplog):
    """alpha0 = omega = 0.3, 3 steps: own 0.3, 0.6, 0.9; paper-a0.3-w0.3 is own, and
    times 1.5 reaches 1.35 at z~(2): left out, with one log line."""
    model = ModelSettings(steps=3, alpha0=0.3, omega=0.3)
    with caplog.at_level(logging.INFO, logger=proposal_search.log.name):
        found = candidates(model, [1.0, 1.5])
    assert [name for name, _ in found] == [
        "own", "paper-a0-w0.3", "paper-a0-w0.3-x1.5", "code-a0-w0.3", "code-a0-w0.3-x1.5",
        "code-a0.3-w0.3", "code-a0.3-w0.3-x1.5",
    ]  # fmt: skip
    assert dict(found)["code-a0.3-w0.3-x1.5"] == pytest.approx([0.45, 0.45, 0.9])
    (record,) = [r for r in caplog.records if "left out" in r.getMessage()]
    assert "paper-a0.3-w0.3-x1.5" in record.getMessage() and "1.35" in record.getMessage()


# --- the search against a brute-force loop ------------------------------------------------

SEARCH = SearchSettings(examples=12, chains=5, scales=[0.5, 1.0, 1.5], device="cpu")


def fitted():
    """A tiny model with a fitted prior, normalising by its population statistics as the
    scoring commands leave a loaded model."""
    model = tiny_model(dim=4, steps=3, alpha0=0.1, omega=0.2)  # own rates 0.1, 0.3, 0.5
    model.fit_prior(torch.rand(64, 4, generator=torch.Generator().manual_seed(8)))
    set_batch_norm_mode(model.operator, POPULATION)
    return model


def pixels(n=20, seed=9):
    return to_unit_interval(np.random.default_rng(seed).integers(0, 256, (n, 4), dtype=np.uint8))


def brute_force(model, valid, names):
    """Each candidate scored on its own: Table 3.1's estimator on the validation images with
    the search's seed, examples and chains, one repetition, a generator of its own."""
    scores = []
    for name in names:
        settings = EvalSettings(examples=SEARCH.examples, chains=SEARCH.chains, repetitions=1,
                                isotropic_examples=0, seed=SEARCH.seed, proposal=name,
                                device="cpu")  # fmt: skip
        table = table_estimates(model, valid, valid, settings)
        scores.append((table["lower_bound"]["mean"], table["importance"]["mean"]))
    return scores


def test_the_search_picks_the_highest_validation_is_of_a_brute_force_loop():
    model, valid = fitted(), pixels()
    result = proposal_search.search_proposals(model, valid, SEARCH)
    names = [c["proposal"] for c in result["candidates"]]
    expected = [p.name for p in proposal_search.candidate_proposals(model.settings, SEARCH)]
    assert names == expected and len(names) > 5
    scores = brute_force(model, valid, names)
    found = [(c["lower_bound"], c["importance"]) for c in result["candidates"]]
    assert found == scores
    importance = [s[1] for s in scores]
    assert len(set(importance)) == len(importance)  # the choice means something
    assert result["best"] == names[int(np.argmax(importance))]
    assert result["best"] != names[int(np.argmin(importance))]
    assert (result["examples"], result["chains"]) == (12, 5)
    for candidate in result["candidates"]:
        rates = parse_proposal(candidate["proposal"]).rates(model.settings)
        assert candidate["rates"] == rates


def test_the_search_file_scores_the_valid_split(tmp_path):
    """Valid and test hold different images: the file's numbers are the search on valid."""
    model = fitted()
    save_model(model, tmp_path / "model.pt")
    data = {split: np.random.default_rng(i).integers(0, 256, (20, 1, 1, 4), dtype=np.uint8)
            for i, split in enumerate(("train", "valid", "test"))}  # fmt: skip
    np.savez(tmp_path / "d.npz", **data)
    proposal_search.search_file(tmp_path / "model.pt", tmp_path / "d.npz", SEARCH, tmp_path / "s")
    written = json.loads((tmp_path / "s").read_text())
    on = {
        split: proposal_search.search_proposals(
            fitted(), to_unit_interval(data[split].reshape(20, 4)), SEARCH
        )
        for split in ("valid", "test")
    }
    assert {k: v for k, v in written.items() if k != "settings"} == on["valid"]
    assert on["valid"]["candidates"] != on["test"]["candidates"]
    assert written["settings"]["scales"] == [0.5, 1.0, 1.5]


# --- --proposal-from ------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    save_model(fitted(), tmp_path / "model.pt")
    rng = np.random.default_rng(4)
    np.savez(tmp_path / "d.npz", **{split: rng.integers(0, 256, (20, 1, 1, 4), dtype=np.uint8)
                                    for split in ("train", "valid", "test")})  # fmt: skip
    return tmp_path


def run(files, command, out, *flags):
    main([command, "--model", str(files / "model.pt"), "--data", str(files / "d.npz"),
          "--out", str(files / out), "--device", "cpu", *flags])  # fmt: skip
    return json.loads((files / out).read_text())


SIZES = {
    "evaluate": ["--examples", "10", "--chains", "4", "--repetitions", "2",
                 "--isotropic-examples", "10", "--isotropic-chains", "2"],
    "convergence": ["--examples", "10", "--chains", "1", "4", "--repetitions", "2"],
}  # fmt: skip


@pytest.mark.parametrize("command", ["evaluate", "convergence"])
def test_proposal_from_scores_under_the_search_s_best_as_proposal_does(files, command):
    search = run(files, "search-proposal", "search.json", "--examples", "10", "--chains", "3")
    best = search["best"]
    assert best != "own"  # so that the search file's proposal is not the default's
    chosen = run(files, command, "from.json", *SIZES[command],
                 "--proposal-from", str(files / "search.json"))  # fmt: skip
    named = run(files, command, "named.json", *SIZES[command], "--proposal", best)
    assert chosen.pop("proposal_from") == str(files / "search.json")
    assert chosen == named
    assert chosen["settings"]["proposal"] == best
    if command == "evaluate":
        assert chosen["proposal"] == best


@pytest.mark.parametrize("command", ["evaluate", "convergence"])
@pytest.mark.parametrize(
    "content, flags, problem",
    [
        (None, [], "No such file"),
        ('{"candidates": []}', [], "no 'best'"),
        ('{"best": ', [], "corrupt or truncated"),
        ('{"best": "sideways"}', [], "names no proposal"),
        ('{"best": "own-x0.5"}', ["--proposal", "own-x0.5"], "name two proposals"),
    ],
)
def test_a_bad_proposal_from_stops_before_the_model_is_read(
    tmp_path, caplog, command, content, flags, problem
):
    """One line naming the flag; the model file does not even exist."""
    search = tmp_path / "search.json"
    if content is not None:
        search.write_text(content)
    with pytest.raises(SystemExit) as stopped, caplog.at_level(logging.ERROR):
        main([command, "--model", "absent.pt", "--data", "absent.npz", "--out", "o.json",
              "--proposal-from", str(search), *flags])  # fmt: skip
    assert stopped.value.code == 1
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("--proposal-from") and problem in message and "\n" not in message


# --- bad settings ---------------------------------------------------------------------------


@pytest.mark.parametrize("scales", [[], [0.5, 0.0], [-1.0]])
def test_bad_scales_stop_at_config_validation_naming_the_key(scales):
    config = copy.deepcopy(CONFIG)
    config["proposal_search"]["scales"] = scales
    with pytest.raises(study.ConfigError, match=r"invalid config key 'proposal_search\.scales"):
        study.validate_config(config)


@pytest.mark.parametrize("scales", [["0"], ["1", "-0.5"]])
def test_bad_scales_flags_stop_naming_the_flag(caplog, scales):
    with pytest.raises(SystemExit), caplog.at_level(logging.ERROR):
        main(["search-proposal", "--model", "absent.pt", "--data", "d.npz", "--out", "o.json",
              "--scales", *scales])  # fmt: skip
    (record,) = caplog.records
    assert record.getMessage().startswith("--scales (scales) must be a non-empty list")
