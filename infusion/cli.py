"""The ``infusion`` command line: every workflow step is one call of it.

    infusion prepare DATASET --out results/data/DATASET.npz [--url BASE_URL ...] [--path PATH]
    infusion train --data D.npz --out RUN_DIR --checkpoint CKPT [model and training flags]
    infusion evaluate --model RUN_DIR/model.pt --data D.npz --out table.json [flags]
    infusion sample --model RUN_DIR/model.pt --out samples.npz [flags]
    infusion parzen --samples samples.npz --data D.npz --out parzen.json [flags]
    infusion inception --samples samples.npz --reference D.npz --out inception.json [flags]
    infusion cost --config config.yaml [--configfile OVERLAY ...]   (hours, before running)

``infusion COMMAND --help`` lists each command's flags with their defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

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
    from infusion.training.trainer import train_file

    model_settings = S.from_arguments(S.ModelSettings, args)
    train_settings = S.from_arguments(S.TrainSettings, args)
    train_file(args.data, model_settings, train_settings, args.out, args.checkpoint)


def cmd_evaluate(args) -> None:
    from infusion.estimation.evaluation import evaluate_file

    evaluate_file(args.model, args.data, S.from_arguments(S.EvalSettings, args), args.out)


def cmd_sample(args) -> None:
    from infusion.sampling.samples import sample_file

    sample_file(args.model, args.data, S.from_arguments(S.SampleSettings, args), args.out)


def cmd_inpaint(args) -> None:
    from infusion.sampling.inpainting import inpaint_file

    inpaint_file(args.model, args.data, S.from_arguments(S.InpaintSettings, args), args.out)


def cmd_parzen(args) -> None:
    from infusion.estimation.parzen import estimate_file

    settings = S.from_arguments(S.ParzenSettings, args)
    estimate_file(args.samples, args.data, args.split, settings, args.out)


def cmd_inception(args) -> None:
    from infusion.estimation.inception import score_file

    score_file(
        args.out,
        S.from_arguments(S.InceptionSettings, args),
        samples=args.samples,
        data=args.data,
        data_splits=args.data_splits,
        reference=args.reference,
        reference_splits=args.reference_splits,
        weights=args.weights,
        weights_sha256=args.weights_sha256,
    )


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


# --- report commands: aggregation, tables, figures, scorecard ---


def cmd_table_3_2(args) -> None:
    from infusion.paper import tables

    tables.table_3_2(args.samples, args.real, args.out)


def cmd_aggregate(args) -> None:
    from infusion.paper import tables

    runs = []
    for item in args.run:
        panel, sep, folders = item.partition("=")
        if not sep:
            raise ValueError(f"--run expects PANEL=RUN_FOLDER[,RUN_FOLDER ...], got {item!r}")
        runs.append((panel, folders.split(",")))
    tables.aggregate_grid(runs, args.grid_out, args.curves_out)


def cmd_table(args) -> None:
    from infusion.paper import tables

    if args.command == "table-a1":
        tables.table_a1(args.grid, args.out)
    elif args.command == "table-3-1":
        tables.table_3_1(args.test, args.train, args.out)
    elif args.command == "table-parzen":
        tables.fig_3_4(args.parzen, args.out)
    else:
        tables.runtimes(args.files, args.out)


def cmd_fidelity(args) -> None:
    from infusion.beyond import fidelity as fidelity_outputs

    if args.command == "fidelity-table":
        fidelity_outputs.fidelity_table(args.row, args.out)
    else:
        fidelity_outputs.fidelity_figure(args.table, args.out)


def cmd_scorecard(args) -> None:
    from infusion.paper import tables

    study = {
        "name": args.study,
        "dataset": args.dataset,
        "epochs": args.epochs,
        "hidden": args.hidden,
        "batch_size": args.batch_size,
        "grid_points": args.grid_points,
        "is_chains": args.is_chains,
        "parzen_samples": args.parzen_samples,
        "notes": args.note,
    }
    tables.scorecard(args.table_a1, args.table_3_1, args.parzen, args.out_csv, args.out_rst, study)


# figure kind -> (function name in infusion.paper.figures, the input flags it takes in order)
FIGURES = {
    "sampling-chains": ("sampling_chains", ["samples"]),
    "training-chains": ("infusion_chains_over_training", ["chains"]),
    "training-curves": ("training_curves", ["metrics"]),
    "grid-curves": ("grid_curves", ["curves"]),
    "grid-means": ("grid_means", ["grid"]),
    "constant-vs-increasing": ("constant_vs_increasing", ["constant", "increasing"]),
    "chains": ("chains", ["samples"]),
    "inpainting": ("inpainting", ["inpainting"]),
    "nearest-neighbours": ("nearest_neighbours", ["samples", "data"]),
}


def cmd_figure(args) -> None:
    from infusion.paper import figures

    name, inputs = FIGURES[args.kind]
    missing = [f"--{flag}" for flag in inputs if getattr(args, flag) is None]
    if missing:
        raise ValueError(f"figure {args.kind} needs {', '.join(missing)}")
    getattr(figures, name)(*(getattr(args, flag) for flag in inputs), args.out)


def add_report_commands(commands, defaults) -> None:
    """Aggregation, tables, scorecard and figures: the report's side of the workflow."""
    p = commands.add_parser("aggregate", help="grid runs -> grid.csv and curves.csv")
    p.add_argument(
        "--run",
        action="append",
        required=True,
        metavar="PANEL=RUN_FOLDER[,RUN_FOLDER ...]",
        help="a grid point's run folder, or its folders under each seed (first seed first)",
    )
    p.add_argument("--grid-out", required=True)
    p.add_argument("--curves-out", required=True)
    p.set_defaults(func=cmd_aggregate)

    tables = {
        "table-a1": (["--grid"], None, "Table A.1 from grid.csv"),
        # several files: one per training seed, first seed first
        "table-3-1": (["--test", "--train"], "+", "Table 3.1 from the final model's estimates"),
        "table-parzen": (["--parzen"], "+", "Fig 3.4's Parzen table from parzen.json"),
    }
    for command, (flags, nargs, help_text) in tables.items():
        p = commands.add_parser(command, help=help_text)
        for flag in flags:
            p.add_argument(flag, required=True, nargs=nargs)
        p.add_argument("--out", required=True)
        p.set_defaults(func=cmd_table)
    p = commands.add_parser("runtimes", help="per-job runtimes from snakemake benchmark files")
    p.add_argument("files", nargs="+")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_table)

    p = commands.add_parser("fidelity-table", help="the fidelity ablation's table")
    p.add_argument(
        "--row",
        action="append",
        nargs=4,
        required=True,
        metavar=("VARIANT", "SEED", "LIKELIHOOD_JSON", "PARZEN_JSON"),
    )
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_fidelity)
    p = commands.add_parser("fidelity-figure", help="the fidelity ablation's figure")
    p.add_argument("--table", required=True, help="fidelity.csv")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_fidelity)

    p = commands.add_parser("scorecard", help="the report's front page", formatter_class=defaults)
    for flag in (
        "--table-a1",
        "--table-3-1",
        "--parzen",
        "--out-csv",
        "--out-rst",
        "--study",
        "--dataset",
    ):
        p.add_argument(flag, required=True)
    for flag in (
        "--epochs",
        "--hidden",
        "--batch-size",
        "--grid-points",
        "--is-chains",
        "--parzen-samples",
    ):
        p.add_argument(flag, type=int, required=True)
    p.add_argument("--note", action="append", default=[], help="a note (repeatable)")
    p.set_defaults(func=cmd_scorecard)

    p = commands.add_parser("figure", help="one of the paper's figures")
    p.add_argument("kind", choices=sorted(FIGURES))
    p.add_argument("--out", required=True)
    for flag in sorted({flag for _, inputs in FIGURES.values() for flag in inputs}):
        p.add_argument(f"--{flag}")
    p.set_defaults(func=cmd_figure)

    p = commands.add_parser("table-3-2", help="Table 3.2 from `infusion inception` JSONs")
    p.add_argument("--samples", required=True, help="the final model's samples scored")
    p.add_argument("--real", required=True, help="real images scored (the anchor)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_table_3_2)


# --- the cost estimate ---


def cmd_cost(args) -> None:
    from infusion import cost, study

    config = study.load(args.config, args.configfile)  # validated against the packaged schema
    rate_flags = (args.examples_per_s, args.chain_steps_per_s, args.startup_s)
    cost.report_cost(config, args.device, *rate_flags, out=args.out)


def add_cost_command(commands, defaults) -> None:
    """The cost estimate of a study, before it runs."""
    p = commands.add_parser(
        "cost",
        help="estimate a study's hours per stage before running it",
        formatter_class=defaults,
    )
    p.add_argument("--config", default="config.yaml", help="the study config")
    p.add_argument(
        "--configfile", nargs="*", action="extend", default=[], help="overlays, as for snakemake"
    )
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
