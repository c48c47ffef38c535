"""The ``infusion`` command line: every workflow step is one call of it.

    infusion prepare DATASET --out results/data/DATASET.npz [--url BASE_URL ...] [--path PATH]
    infusion train --data D.npz --out RUN_DIR --checkpoint CKPT [model and training flags]
    infusion evaluate --model RUN_DIR/model.pt --data D.npz --out table.json [flags]
    infusion convergence --model RUN_DIR/model.pt --data D.npz --out estimates.json [flags]
    infusion search-proposal --model RUN_DIR/model.pt --data D.npz --out search.json [flags]
    infusion sample --model RUN_DIR/model.pt --out samples.npz [flags]
    infusion inpaint --model RUN_DIR/model.pt --data D.npz --out inpainting.npz [flags]
    infusion parzen --samples samples.npz --data D.npz --out parzen.json [flags]
    infusion parzen --real-centres N --data D.npz --out parzen.json [flags]   (real images)
    infusion inception --samples samples.npz --reference D.npz --out inception.json [flags]
    infusion fetch-inception-weights [--out PATH]   (checksummed)
    infusion artifact ID --INPUT PATH ... --out PATH   (a table or figure: fig3.2, tableA.1, ...)
    infusion cost --config config.yaml [--configfile OVERLAY ...]   (hours, before running)

``infusion COMMAND --help`` lists each command's flags: what each is (the comment of its
settings field, :mod:`infusion.flags`), its default and its choices.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys

from infusion import settings as S
from infusion.cli import handlers
from infusion.data.download import DownloadError
from infusion.flags import HelpFormatter, add_arguments
from infusion.runtime.allocator import keep_freed_memory
from infusion.runtime.atomic import DiskFullError, UnwritableError
from infusion.runtime.gpu_slots import gpu_slot
from infusion.training.stopping import TrainingStopped

log = logging.getLogger("infusion")
# run inside a GPU slot with --gpu-slots N
GPU_COMMANDS = (
    "train",
    "evaluate",
    "convergence",
    "search-proposal",
    "sample",
    "inpaint",
    "inception",
    "cost",
)


# --- compute commands: data, training, estimates, samples, Inception ---


def add_proposal_from(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--proposal-from",
        metavar="SEARCH.json",
        help="score under the best proposal of this output of `infusion search-proposal`"
        " (instead of --proposal; default: none, --proposal scores)",
    )


def add_files(parser: argparse.ArgumentParser, **files: str) -> None:
    """Required path flags: ``--NAME`` -> its help."""
    for name, text in files.items():
        parser.add_argument(f"--{name}", required=True, help=text)


MODEL = "a model.pt of `infusion train`"
DATA = "a prepared dataset (.npz of `infusion prepare`)"


def add_compute_commands(commands, defaults) -> None:
    """Data, training, estimates and samples: the jobs that compute."""
    p = commands.add_parser(
        "prepare", help="prepare a dataset into an npz", formatter_class=defaults
    )
    p.add_argument("dataset", help="the dataset's name (infusion/data/registry.py)")
    add_files(p, out="the prepared .npz")
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
        " tfd: the .mat; default: none, downloaded)",
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
    p.set_defaults(func=handlers.cmd_prepare)

    p = commands.add_parser("train", help="train one grid point", formatter_class=defaults)
    add_files(p, data=DATA, out="run folder for model.pt, metrics.csv, ...",
              checkpoint="checkpoint file (resumed if present)")  # fmt: skip
    add_arguments(p, S.ModelSettings)
    add_arguments(p, S.TrainSettings)
    p.set_defaults(func=handlers.cmd_train)

    p = commands.add_parser(
        "evaluate", help="lower bound and IS estimates (Table 3.1)", formatter_class=defaults
    )
    add_files(p, model=MODEL, data=DATA, out="the estimates (JSON)")
    add_arguments(p, S.EvalSettings)
    add_proposal_from(p)
    p.set_defaults(func=handlers.cmd_evaluate)

    p = commands.add_parser(
        "convergence",
        help="lower bound and IS estimate against the number of chains",
        formatter_class=defaults,
    )
    add_files(p, model=MODEL, data=f"{DATA}, whose test images are scored",
              out="the estimates against k (JSON)")  # fmt: skip
    add_arguments(p, S.ConvergenceSettings)
    add_proposal_from(p)
    p.set_defaults(func=handlers.cmd_convergence)

    p = commands.add_parser(
        "search-proposal",
        help="the tightest proposal q of a model, found on validation data",
        formatter_class=defaults,
    )
    add_files(p, model=MODEL, data=f"{DATA}, whose validation images are scored",
              out="every candidate's estimate and the best (JSON)")  # fmt: skip
    add_arguments(p, S.SearchSettings)
    p.set_defaults(func=handlers.cmd_search_proposal)

    p = commands.add_parser("sample", help="model sampling chains", formatter_class=defaults)
    add_files(p, model=MODEL, out="the samples and kept chains (.npz)")
    p.add_argument("--data", help=f"{DATA}, whose test images seed the kept infusion chains"
                   " (default: none, no infusion chains kept)")  # fmt: skip
    add_arguments(p, S.SampleSettings)
    p.set_defaults(func=handlers.cmd_sample)

    p = commands.add_parser(
        "inpaint", help="complete test images' bottom halves (Fig 3.6)", formatter_class=defaults
    )
    add_files(p, model=MODEL, data=f"{DATA}, whose test images are completed",
              out="the completions (.npz)")  # fmt: skip
    add_arguments(p, S.InpaintSettings)
    p.set_defaults(func=handlers.cmd_inpaint)

    p = commands.add_parser(
        "parzen", help="Parzen-window estimate (Fig 3.4)", formatter_class=defaults
    )
    centres = p.add_mutually_exclusive_group(required=True)
    centres.add_argument("--samples", help="samples.npz of `infusion sample`: kernel centres"
                         " (this or --real-centres required)")  # fmt: skip
    centres.add_argument(
        "--real-centres",
        type=int,
        metavar="N",
        help="the first N training images of --data as kernel centres (real data's estimate;"
        " this or --samples required)",
    )
    add_files(p, data=DATA, out="the estimate (JSON)")
    p.add_argument("--split", default="test", help="the split of --data scored")
    add_arguments(p, S.ParzenSettings)
    p.set_defaults(func=handlers.cmd_parzen)


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
    source.add_argument(
        "--samples",
        help="samples.npz of `infusion sample` (last-step means; this or --data required)",
    )
    source.add_argument(
        "--data",
        help="a prepared dataset whose real images are scored (this or --samples required)",
    )
    p.add_argument(
        "--data-splits", nargs="+", default=["train"], help="with --data: splits, concatenated"
    )
    p.add_argument("--reference", help="a prepared dataset: FID against it (default: none, no FID)")
    p.add_argument("--reference-splits", nargs="+", default=["train"], help="its splits")
    p.add_argument(
        "--weights",
        help="Inception weights file (config inception.weights; default: torch-fidelity's "
        "cached copy in torch.hub.get_dir()/checkpoints)",
    )
    p.add_argument("--weights-sha256", default=WEIGHTS_SHA256_PREFIX, help=sha256_help)
    p.add_argument("--out", required=True, help="metrics JSON")
    add_arguments(p, S.InceptionSettings)
    p.set_defaults(func=handlers.cmd_inception)

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
    p.set_defaults(func=handlers.cmd_fetch_inception_weights)


# --- report commands: every table and figure, by its artifact id ---


def add_report_commands(commands, defaults) -> None:
    """The report's one command: ``infusion artifact ID --INPUT PATH ... --out PATH``."""
    p = commands.add_parser(
        "artifact",
        help="make one table or figure of the report (ids: infusion/paper/artifacts.py)",
        description="`infusion artifact ID --help` lists the artifact's flags.",
    )
    p.add_argument("id", help="the artifact's id, its output's name: fig3.2, tableA.1, grid ...")
    p.add_argument("flags", nargs=argparse.REMAINDER, help="its inputs and outputs")
    p.set_defaults(func=handlers.cmd_artifact)


# --- the cost estimate ---


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
    p.add_argument(
        "--cache",
        default=S.COST_RATES_CACHE,
        help="rates measured before, by device, torch version and network: read, and "
        "written with the ones measured now",
    )
    p.add_argument("--no-cache", action="store_true", help="measure every rate afresh")
    p.add_argument(
        "--gpus",
        type=int,
        metavar="N",
        help="also print the wall clock on N devices: the total hours over N x "
        "resources.jobs_per_gpu jobs at a time, each at the timed rate, but no less than the "
        "longest job (a lower bound: a job waiting for the model it scores is left out;"
        " default: none, core-hours only)",
    )
    p.add_argument("--out", help="also write the table, with the rates, to this CSV (default:"
                   " none, printed only)")  # fmt: skip
    p.set_defaults(func=handlers.cmd_cost)


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
    defaults = HelpFormatter

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
        UnwritableError,
        TrainingStopped,
    ) as error:
        log.error("%s", error)
        sys.exit(1)
