"""The ``infusion`` command line: every workflow step is one call of it.

    infusion prepare DATASET --out results/data/DATASET.npz [--url BASE_URL ...] [--path PATH]
    infusion train --data D.npz --out RUN_DIR --checkpoint CKPT [model and training flags]
    infusion evaluate --model RUN_DIR/model.pt --data D.npz --out table.json [flags]
    infusion sample --model RUN_DIR/model.pt --out samples.npz [flags]
    infusion parzen --samples samples.npz --data D.npz --out parzen.json [flags]
    infusion inception --samples samples.npz --reference D.npz --out inception.json [flags]
    infusion artifact ID --INPUT PATH ... --out PATH   (a table or figure: fig3.2, tableA.1, ...)
    infusion cost --config config.yaml [--configfile OVERLAY ...]   (hours, before running)

``infusion COMMAND --help`` lists each command's flags with their defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import sys
from pathlib import Path

import numpy as np

from infusion import settings as S
from infusion.data.download import DownloadError
from infusion.runtime.allocator import keep_freed_memory
from infusion.runtime.atomic import DiskFullError
from infusion.runtime.gpu_slots import gpu_slot
from infusion.training.stopping import TrainingStopped

log = logging.getLogger("infusion")
# run inside a GPU slot with --gpu-slots N
GPU_COMMANDS = ("train", "evaluate", "sample", "inpaint", "inception", "cost")


# --- compute commands: data, training, estimates, samples, Inception ---


def cmd_prepare(args) -> None:
    from infusion.data.registry import prepare

    path = prepare(
        args.dataset,
        Path(args.out),
        Path(args.cache),
        args.url,
        args.path,
        _file_checksums(args.md5, "--md5"),
        _file_checksums(args.content_md5, "--content-md5"),
    )
    log.info("prepared %s -> %s", args.dataset, path)


def _file_checksums(pairs: list[str], flag: str) -> dict[str, str]:
    """``["FILE=MD5", ...]`` -> ``{FILE: MD5}``; ``ValueError`` naming ``flag`` otherwise."""
    checksums = {}
    for pair in pairs:
        filename, sep, md5 = pair.partition("=")
        if not (sep and filename and md5):
            raise ValueError(f"{flag} {pair!r}: expected FILE=MD5")
        checksums[filename] = md5
    return checksums


def cmd_train(args) -> None:
    from infusion.data.registry import load
    from infusion.training.trainer import Trainer

    model_settings = S.from_arguments(S.ModelSettings, args)
    train_settings = S.from_arguments(S.TrainSettings, args)
    trainer = Trainer(
        model_settings, train_settings, load(Path(args.data)), Path(args.out), Path(args.checkpoint)
    )
    log.info("training on %s: %s; %s", trainer.device, model_settings, train_settings)
    trainer.run()


def cmd_evaluate(args) -> None:
    from infusion.data.registry import load, to_unit_interval
    from infusion.estimation.evaluation import likelihood_table
    from infusion.nets.model import load_model
    from infusion.runtime.atomic import write_json
    from infusion.runtime.device import resolve_device

    settings = S.from_arguments(S.EvalSettings, args)
    model, _ = load_model(args.model, resolve_device(settings.device))
    data = load(Path(args.data))
    table = likelihood_table(
        model, to_unit_interval(data[settings.split]), to_unit_interval(data["valid"]), settings
    )
    write_json(args.out, {"settings": dataclasses.asdict(settings), **table})


def cmd_sample(args) -> None:
    import torch

    from infusion.nets.model import load_model
    from infusion.runtime.atomic import write_npz
    from infusion.runtime.device import resolve_device
    from infusion.sampling.samples import draw_samples

    settings = S.from_arguments(S.SampleSettings, args)
    model, _ = load_model(args.model, resolve_device(settings.device))
    targets = None
    if args.data:
        from infusion.data.registry import load, to_unit_interval

        test = load(Path(args.data))["test"][: settings.infusion_targets]
        targets = torch.as_tensor(to_unit_interval(test))
    samples = draw_samples(model, settings, targets)
    write_npz(args.out, shape=np.array(model.shape), **samples)


def cmd_inpaint(args) -> None:
    import torch

    from infusion.data.registry import load, to_unit_interval
    from infusion.nets.model import load_model
    from infusion.runtime.atomic import write_npz
    from infusion.runtime.device import resolve_device
    from infusion.sampling.inpainting import inpaint

    settings = S.from_arguments(S.InpaintSettings, args)
    model, _ = load_model(args.model, resolve_device(settings.device))
    test = load(Path(args.data))["test"][: settings.images]
    result = inpaint(model, torch.as_tensor(to_unit_interval(test)), settings)
    write_npz(args.out, shape=np.array(model.shape), **result)


def cmd_parzen(args) -> None:
    import torch

    from infusion.data.registry import dequantize, load, to_unit_interval
    from infusion.estimation import parzen
    from infusion.runtime.atomic import write_json

    settings = S.from_arguments(S.ParzenSettings, args)
    samples = np.load(args.samples)
    data = load(Path(args.data))
    generator = torch.Generator().manual_seed(settings.seed)

    def points(split, n):
        return dequantize(torch.as_tensor(to_unit_interval(data[split][:n])), generator).numpy()

    valid = points("valid", settings.examples) if settings.sigma == 0 else None
    scored = points(args.split, settings.examples)
    # Both kernel centres of ParzenSettings.chain_steps; the chosen one is the headline.
    estimates = {}
    for centres, key in (("sampling", "means"), ("training", "training_steps_means")):
        if key not in samples:
            raise ValueError(f"{args.samples} has no {key!r} (rerun `infusion sample`)")
        means = samples[key]
        sigma, scores = settings.sigma, {}
        if sigma == 0:
            sigma, scores = parzen.choose_sigma(means, valid, settings.sigma_grid, settings.batch)
            log.info("%s centres: sigma %.4g chosen on validation data", centres, sigma)
        values = parzen.log_likelihood(means, scored, sigma, settings.batch)
        estimates[centres] = {
            "sigma": sigma,
            "validation_scores": scores,
            **parzen.summarise(values),
        }
    write_json(
        args.out,
        {
            "split": args.split,
            "samples": len(samples["means"]),
            "chain_steps": settings.chain_steps,
            **estimates[settings.chain_steps],
            "by_chain_steps": estimates,
        },
    )


def _first(images: np.ndarray, n: int, source: str) -> np.ndarray:
    if len(images) < n:
        raise ValueError(f"{source} holds {len(images)} images, {n} are to be scored (--images)")
    return images[:n]


def _real_images(path: str, splits: list[str]) -> np.ndarray:
    """The images of ``splits`` of a prepared dataset, concatenated in that order."""
    from infusion.data.registry import load

    data = load(Path(path))
    unknown = sorted(set(splits) - set(data))
    if unknown:
        raise ValueError(f"{path} has no split {unknown}; its splits are {sorted(data)}")
    return np.concatenate([data[split] for split in splits])


def cmd_inception(args) -> None:
    from infusion.estimation import inception
    from infusion.runtime.atomic import write_json

    settings = S.from_arguments(S.InceptionSettings, args)
    if args.samples:
        with np.load(args.samples) as samples:
            if not {"means", "shape"} <= set(samples.files):
                raise ValueError(f"{args.samples} is not an `infusion sample` output")
            means, shape = samples["means"], tuple(int(s) for s in samples["shape"])
        images = inception.to_pixels(_first(means, settings.images, args.samples), shape)
        source = {"samples": args.samples, "pixels": "round(256 x) clipped to [0, 255]"}
    else:
        real = _real_images(args.data, args.data_splits)
        images = _first(real, settings.images, f"{args.data} {'+'.join(args.data_splits)}")
        source = {"data": args.data, "data_splits": args.data_splits}
    reference = None
    if args.reference:
        reference = _real_images(args.reference, args.reference_splits)
        source |= {"reference": args.reference, "reference_splits": args.reference_splits}
    result = inception.score_images(
        images,
        weights=args.weights,
        weights_sha256=args.weights_sha256,
        reference=reference,
        splits=settings.splits,
        batch=settings.batch,
        device=settings.device,
    )
    log.info(
        "Inception score %.3f +- %.3f%s",
        result["inception_score_mean"],
        result["inception_score_std"],
        f", FID {result[inception.FID_KEY]:.3f}" if reference is not None else "",
    )
    write_json(args.out, {"settings": dataclasses.asdict(settings), **source, **result})


def cmd_fetch_inception_weights(args) -> None:
    from infusion.estimation.inception import fetch_weights

    path = fetch_weights(args.md5, args.out, args.url or None, args.weights_sha256)
    log.info("Inception weights at %s", path)


def add_compute_commands(commands, defaults) -> None:
    """Data, training, estimates and samples: the jobs that compute."""
    p = commands.add_parser(
        "prepare", help="prepare a dataset into an npz", formatter_class=defaults
    )
    p.add_argument("dataset")
    p.add_argument("--out", required=True)
    p.add_argument("--cache", default="results/downloads", help="where downloads are kept")
    p.add_argument(
        "--url",
        action="append",
        help="a base URL (folder) serving the dataset's files, replacing its default ones "
        "(repeatable, tried in order; default: $INFUSION_<DATASET>_URLS, else the official)",
    )
    p.add_argument(
        "--path",
        help="a local file or folder to read instead (celeba, mnist, fashionmnist: a folder;"
        " tfd: the .mat)",
    )
    p.add_argument(
        "--md5",
        action="append",
        default=[],
        metavar="FILE=MD5",
        help="replace the published MD5 of a raw file (repeatable)",
    )
    p.add_argument(
        "--content-md5",
        action="append",
        default=[],
        metavar="FILE=MD5",
        help="replace the MD5 of a gzip file's decompressed content, by which a local copy"
        " compressed anew is recognised (repeatable)",
    )
    p.set_defaults(func=cmd_prepare)

    p = commands.add_parser("train", help="train one grid point", formatter_class=defaults)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="run folder for model.pt, metrics.csv, ...")
    p.add_argument("--checkpoint", required=True, help="checkpoint file (resumed if present)")
    S.add_arguments(p, S.ModelSettings)
    S.add_arguments(p, S.TrainSettings)
    p.set_defaults(func=cmd_train)

    p = commands.add_parser(
        "evaluate", help="lower bound and IS estimates (Table 3.1)", formatter_class=defaults
    )
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    S.add_arguments(p, S.EvalSettings)
    p.set_defaults(func=cmd_evaluate)

    p = commands.add_parser("sample", help="model sampling chains", formatter_class=defaults)
    p.add_argument("--model", required=True)
    p.add_argument("--data", help="dataset whose test images seed the kept infusion chains")
    p.add_argument("--out", required=True)
    S.add_arguments(p, S.SampleSettings)
    p.set_defaults(func=cmd_sample)

    p = commands.add_parser(
        "inpaint", help="complete test images' bottom halves (Fig 3.6)", formatter_class=defaults
    )
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True, help="dataset whose test images are completed")
    p.add_argument("--out", required=True)
    S.add_arguments(p, S.InpaintSettings)
    p.set_defaults(func=cmd_inpaint)

    p = commands.add_parser(
        "parzen", help="Parzen-window estimate (Fig 3.4)", formatter_class=defaults
    )
    p.add_argument("--samples", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--out", required=True)
    S.add_arguments(p, S.ParzenSettings)
    p.set_defaults(func=cmd_parzen)


def add_inception_commands(commands, defaults) -> None:
    """The Inception score and FID of Table 3.2, and the download of Inception's weights."""
    from infusion.estimation.inception import WEIGHTS_SHA256_PREFIX

    sha256_help = (
        "leading hex digits the weights' SHA-256 must have (config inception.weights_sha256; "
        "default: the official file's, from its name)"
    )
    p = commands.add_parser(
        "inception",
        help="Inception score and FID of samples or real images (Table 3.2)",
        formatter_class=defaults,
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--samples", help="samples.npz of `infusion sample` (last-step means)")
    source.add_argument("--data", help="a prepared dataset whose real images are scored")
    p.add_argument(
        "--data-splits", nargs="+", default=["train"], help="with --data: splits, concatenated"
    )
    p.add_argument("--reference", help="a prepared dataset: FID against it (none: no FID)")
    p.add_argument("--reference-splits", nargs="+", default=["train"], help="its splits")
    p.add_argument(
        "--weights",
        help="Inception weights file (config inception.weights; default: torch-fidelity's "
        "cached copy in torch.hub.get_dir()/checkpoints)",
    )
    p.add_argument("--weights-sha256", default=WEIGHTS_SHA256_PREFIX, help=sha256_help)
    p.add_argument("--out", required=True, help="metrics JSON")
    S.add_arguments(p, S.InceptionSettings)
    p.set_defaults(func=cmd_inception)

    p = commands.add_parser(
        "fetch-inception-weights",
        help="download torch-fidelity's Inception weights (checksummed)",
        formatter_class=defaults,
    )
    p.add_argument("--md5", help="MD5 of the weights file, checked too (config weights_md5)")
    p.add_argument("--weights-sha256", default=WEIGHTS_SHA256_PREFIX, help=sha256_help)
    p.add_argument(
        "--url", action="append", default=[], help="URL (repeatable; default torch-fidelity's)"
    )
    p.add_argument("--out", help="where to put the file (default: the cache torch-fidelity reads)")
    p.set_defaults(func=cmd_fetch_inception_weights)


# --- report commands: every table and figure, by its artifact id ---


def cmd_artifact(args) -> None:
    from infusion.paper.artifacts import make

    make(args.id, args.flags)


def add_report_commands(commands, defaults) -> None:
    """The report's one command: ``infusion artifact ID --INPUT PATH ... --out PATH``."""
    p = commands.add_parser(
        "artifact",
        help="make one table or figure of the report (ids: infusion/paper/artifacts.py)",
        description="`infusion artifact ID --help` lists the artifact's flags.",
    )
    p.add_argument("id", help="the artifact's id, its output's name: fig3.2, tableA.1, grid ...")
    p.add_argument("flags", nargs=argparse.REMAINDER, help="its inputs and outputs")
    p.set_defaults(func=cmd_artifact)


# --- the cost estimate ---


def cmd_cost(args) -> None:
    import json

    import yaml

    from infusion.config import validate_config
    from infusion.cost import (
        Rates,
        estimate_cost,
        measure_rates,
        measure_startup,
        merge_config,
        natural_datasets,
        natural_study,
    )
    from infusion.runtime.atomic import atomic_path

    if args.config_json is not None:
        config = json.loads(args.config_json)
    else:
        config = yaml.safe_load(Path(args.config).read_text())
        for overlay in args.configfile:
            config = merge_config(config, yaml.safe_load(Path(overlay).read_text()) or {})
    schema = Path(__file__).resolve().parent.parent / "workflow/schemas/config.schema.yaml"
    if schema.exists():  # in a source checkout (the workflow's schema is not packaged)
        validate_config(config, schema)
    given = (args.examples_per_s, args.chain_steps_per_s)
    natural = natural_datasets(config)
    if None in given:
        log.info("timing the study's network on %s (a few seconds)", args.device)
        measured = measure_rates(config, args.device)
        rates = dataclasses.replace(
            measured,
            examples_per_s=args.examples_per_s or measured.examples_per_s,
            chain_steps_per_s=args.chain_steps_per_s or measured.chain_steps_per_s,
            startup_s=measured.startup_s if args.startup_s is None else args.startup_s,
        )
        natural_rates = {}
        for dataset in natural:
            log.info("timing the %s network on %s", dataset, args.device)
            study = natural_study(config, dataset)
            natural_rates[dataset] = measure_rates(study, args.device, startup_s=rates.startup_s)
    else:  # the given rates stand for every network
        startup = measure_startup() if args.startup_s is None else args.startup_s
        rates = Rates(*given, startup)
        natural_rates = dict.fromkeys(natural, rates)
    for name, r in {config["dataset"]: rates, **natural_rates}.items():
        print(
            f"rates of the {name} network: {r.examples_per_s:.0f} training example-steps/s, "
            f"{r.chain_steps_per_s:.0f} evaluation chain-steps/s, "
            f"{r.startup_s:.1f} s start-up per job"
        )
    table = estimate_cost(config, rates, natural_rates)
    print(
        table[["stage", "jobs", "hours"]].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    )
    if args.out:
        with atomic_path(args.out) as tmp:
            table.to_csv(tmp, index=False)


def add_cost_command(commands, defaults) -> None:
    """The cost estimate of a study, before it runs."""
    p = commands.add_parser(
        "cost",
        help="estimate a study's hours per stage before running it",
        formatter_class=defaults,
    )
    p.add_argument("--config", default="config.yaml", help="the study config")
    p.add_argument(
        "--configfile", nargs="+", action="extend", default=[], help="overlays, as for snakemake"
    )
    p.add_argument("--config-json", help="the whole study config as JSON (instead of files)")
    p.add_argument(
        "--examples-per-s",
        type=float,
        help="training example-steps per second of every network (default: measured)",
    )
    p.add_argument(
        "--chain-steps-per-s",
        type=float,
        help="evaluation chain-steps per second of every network (default: measured)",
    )
    p.add_argument("--startup-s", type=float, help="start-up seconds per job (default: measured)")
    p.add_argument("--device", default="auto", help="where to measure the rates")
    p.add_argument("--out", help="also write the table, with the rates, to this CSV")
    p.set_defaults(func=cmd_cost)


# --- the parser and the entry point ---


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infusion", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    parser.add_argument(
        "--gpu-slots",
        type=int,
        default=0,
        metavar="N",
        help="jobs per GPU: train, evaluate, sample and inception take a free GPU slot and set "
        "CUDA_VISIBLE_DEVICES to its device (0: off; see infusion/runtime/gpu_slots.py)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = argparse.ArgumentDefaultsHelpFormatter

    add_compute_commands(commands, defaults)
    add_inception_commands(commands, defaults)
    add_report_commands(commands, defaults)
    add_cost_command(commands, defaults)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    keep_freed_memory()
    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    use_slots = args.gpu_slots != 0 and args.command in GPU_COMMANDS
    try:
        with gpu_slot(args.gpu_slots) if use_slots else contextlib.nullcontext():
            args.func(args)
    except (
        ValueError,
        FileNotFoundError,
        FloatingPointError,
        DownloadError,
        TimeoutError,
        DiskFullError,
        TrainingStopped,
    ) as error:
        log.error("%s", error)
        sys.exit(1)
