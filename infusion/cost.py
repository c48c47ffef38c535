"""What a study costs before it runs: hours per stage from two measured throughputs.

The model is deliberately simple. Every stage is a count of operator applications (an
example or chain through one step of the network) divided by a rate:

- ``examples_per_s``: training example-steps per second (forward, backward and Adam): the
  examples of a training step times its chain steps, over its seconds;
- ``chain_steps_per_s``: evaluation chain-steps per second (forward only, no gradient).

Both are for the MNIST MLP at ``REFERENCE_HIDDEN`` = 1200 units (what ``measure_rates`` and
``benchmarks/run.py`` time). A study of another width costs (hidden / 1200)^2 as much per
step (the hidden-to-hidden product dominates; the input and output layers, and the pixel
count of other datasets, are ignored). Narrow networks and small batches are bound by
per-call overhead rather than arithmetic, so for them the estimate is a lower bound (the
quick study's real time is several times its estimate). Per stage:

- train: for every distinct grid point, epochs x (train examples x steps at the training
  rate + the per-epoch curves: train and valid ``curve_examples`` x steps, one chain each,
  at the evaluation rate);
- grid_evaluation: every distinct grid point, examples x chains x repetitions x steps
  (+ isotropic_examples x isotropic_chains x steps);
- evaluation: Table 3.1 for test and train, examples x chains x repetitions x final steps
  (+ the isotropic term);
- sampling: the final model's samples x sampling_steps, every grid point's samples x its
  steps, plus their infusion chains.

Parzen estimates, data preparation, figures and job start-up are left out (minutes).
"""

from __future__ import annotations

import pandas as pd

REFERENCE_HIDDEN = 1200  # the width the rates are measured at
SPLIT_SIZES = {  # train / valid / test examples of each prepared dataset (infusion.data)
    "mnist": {"train": 50000, "valid": 10000, "test": 10000},
    "mnist5k": {"train": 4000, "valid": 500, "test": 500},
    "digits": {"train": 1197, "valid": 300, "test": 300},
    "shapes16": {"train": 500, "valid": 100, "test": 100},
    "cifar10": {"train": 45000, "valid": 5000, "test": 10000},
    "celeba": {"train": 162770, "valid": 19867, "test": 19962},
}  # TFD's sizes depend on the local file, so it has no estimate


def merge_config(base: dict, overlay: dict) -> dict:
    """``overlay`` onto ``base`` as snakemake's ``--configfile`` does: dicts are merged
    recursively, anything else (lists included) is replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def grid_points(config: dict) -> list[tuple[int, float, float]]:
    """Distinct (steps, alpha0, omega) of the grid: a point shared by panels is trained once."""
    points = (
        (int(panel["steps"]), float(alpha0), float(omega))
        for panel in config["grid"]
        for alpha0 in panel["alpha0"]
        for omega in panel["omega"]
    )
    return list(dict.fromkeys(points))


def estimate_cost(config: dict, examples_per_s: float, chain_steps_per_s: float) -> pd.DataFrame:
    """Hours of each stage of the study ``config`` (config.yaml's structure); see the module
    doc for the model. Columns ``stage, jobs, hours``; the last row is the total."""
    if examples_per_s <= 0 or chain_steps_per_s <= 0:
        raise ValueError("examples_per_s and chain_steps_per_s must be > 0")
    hidden = config.get("model", {}).get("hidden", REFERENCE_HIDDEN)
    width = (hidden / REFERENCE_HIDDEN) ** 2
    if config["dataset"] not in SPLIT_SIZES:
        raise ValueError(f"no split sizes known for dataset {config['dataset']!r}")
    sizes = SPLIT_SIZES[config["dataset"]]
    points = grid_points(config)
    training = config["training"]

    def hours(example_steps: float = 0.0, chain_steps: float = 0.0) -> float:
        return width * (example_steps / examples_per_s + chain_steps / chain_steps_per_s) / 3600

    curves = min(training["curve_examples"], sizes["train"]) + min(
        training["curve_examples"], sizes["valid"]
    )
    train = sum(
        hours(training["epochs"] * sizes["train"] * t, training["epochs"] * curves * t)
        for t, _, _ in points
    )

    def isotropic(section: dict) -> int:
        return section.get("isotropic_examples", 0) * section.get("isotropic_chains", 10)

    grid_eval = config["grid_evaluation"]
    per_point = grid_eval["examples"] * grid_eval["chains"] * grid_eval["repetitions"]
    grid_evaluation = sum(
        hours(chain_steps=(per_point + isotropic(grid_eval)) * t) for t, _, _ in points
    )

    evaluation = config["evaluation"]
    final_steps = int(config["final"]["steps"])
    table = sum(
        hours(
            chain_steps=(
                evaluation[f"{split}_examples"] * evaluation["chains"] * evaluation["repetitions"]
                + isotropic(evaluation)
            )
            * final_steps
        )
        for split in ("test", "train")
    )

    sampling, grid_sampling = config["sampling"], config["grid_sampling"]
    sample = hours(
        chain_steps=sampling["samples"] * sampling["sampling_steps"]
        + sampling["infusion_targets"] * final_steps
    ) + sum(
        hours(chain_steps=(grid_sampling["samples"] + grid_sampling["infusion_targets"]) * t)
        for t, _, _ in points
    )

    rows = [
        ("train", len(points), train),
        ("grid_evaluation", len(points), grid_evaluation),
        ("evaluation", 2, table),
        ("sampling", 1 + len(points), sample),
    ]
    rows.append(("total", sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return pd.DataFrame(rows, columns=["stage", "jobs", "hours"])


def measure_rates(device: str = "auto", train_steps: int = 3) -> tuple[float, float]:
    """(examples_per_s, chain_steps_per_s) of the MNIST MLP at 1200 units on random data:
    a few training steps and one evaluation pass on ``device``, after a warm-up each."""
    import torch

    from infusion.estimators import draw_log_weights
    from infusion.model import InfusionModel
    from infusion.objectives import denoising_loss
    from infusion.settings import ModelSettings
    from infusion.timing import seconds_per_call
    from infusion.training import resolve_device

    dev = resolve_device(device)
    steps, batch = 5, 256 if dev.type == "cpu" else 2048
    chains = 2048 if dev.type == "cpu" else 65536
    torch.manual_seed(0)
    model = InfusionModel(ModelSettings(steps=steps, hidden=REFERENCE_HIDDEN), (1, 28, 28))
    model = model.to(dev)
    optimizer = torch.optim.Adam(model.parameters())
    generator = torch.Generator(dev).manual_seed(0)
    x = torch.rand(batch, model.dim, device=dev)

    def train_step():
        loss = denoising_loss(model, x, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    examples_per_s = batch * steps / seconds_per_call(train_step, train_steps, dev)
    points = x[:4]
    evaluate = seconds_per_call(
        lambda: draw_log_weights(model, points, chains // 4, generator, chains), 1, dev
    )
    return examples_per_s, chains * steps / evaluate
