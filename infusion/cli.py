"""The ``infusion`` command line: every workflow step is one call of it.

    infusion prepare DATASET --out results/data/DATASET.npz
    infusion train --data D.npz --out RUN_DIR --checkpoint CKPT [model and training flags]
    infusion evaluate --model RUN_DIR/model.pt --data D.npz --out table.json [flags]
    infusion sample --model RUN_DIR/model.pt --out samples.npz [flags]
    infusion parzen --samples samples.npz --data D.npz --out parzen.json [flags]

``infusion COMMAND --help`` lists each command's flags with their defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path

import numpy as np

from infusion import settings as S

log = logging.getLogger("infusion")


def cmd_prepare(args) -> None:
    from infusion.data import prepare

    path = prepare(args.dataset, Path(args.out), Path(args.cache))
    log.info("prepared %s -> %s", args.dataset, path)


def cmd_train(args) -> None:
    from infusion.data import load
    from infusion.training import Trainer

    model_settings = S.from_arguments(S.ModelSettings, args)
    train_settings = S.from_arguments(S.TrainSettings, args)
    trainer = Trainer(
        model_settings, train_settings, load(Path(args.data)), Path(args.out), Path(args.checkpoint)
    )
    log.info("training on %s: %s; %s", trainer.device, model_settings, train_settings)
    trainer.run()


def cmd_evaluate(args) -> None:
    from infusion.atomic import write_json
    from infusion.data import load, to_unit_interval
    from infusion.evaluation import likelihood_table
    from infusion.model import load_model
    from infusion.training import resolve_device

    settings = S.from_arguments(S.EvalSettings, args)
    model, _ = load_model(args.model, resolve_device(settings.device))
    data = load(Path(args.data))
    table = likelihood_table(
        model, to_unit_interval(data[settings.split]), to_unit_interval(data["valid"]), settings
    )
    write_json(args.out, {"settings": dataclasses.asdict(settings), **table})


def cmd_sample(args) -> None:
    import torch

    from infusion.atomic import write_npz
    from infusion.model import load_model
    from infusion.sampling import draw_samples
    from infusion.training import resolve_device

    settings = S.from_arguments(S.SampleSettings, args)
    model, _ = load_model(args.model, resolve_device(settings.device))
    targets = None
    if args.data:
        from infusion.data import load, to_unit_interval

        test = load(Path(args.data))["test"][: settings.infusion_targets]
        targets = torch.as_tensor(to_unit_interval(test))
    samples = draw_samples(model, settings, targets)
    write_npz(args.out, shape=np.array(model.shape), **samples)


def cmd_parzen(args) -> None:
    import torch

    from infusion import parzen
    from infusion.atomic import write_json
    from infusion.data import dequantize, load, to_unit_interval

    settings = S.from_arguments(S.ParzenSettings, args)
    means = np.load(args.samples)["means"]
    data = load(Path(args.data))
    generator = torch.Generator().manual_seed(settings.seed)

    def points(split, n):
        return dequantize(torch.as_tensor(to_unit_interval(data[split][:n])), generator).numpy()

    sigma, scores = settings.sigma, {}
    if sigma == 0:
        sigma, scores = parzen.choose_sigma(
            means, points("valid", settings.examples), settings.sigma_grid, settings.batch
        )
        log.info("sigma %.4g chosen on validation data", sigma)
    values = parzen.log_likelihood(
        means, points(args.split, settings.examples), sigma, settings.batch
    )
    write_json(
        args.out,
        {
            "sigma": sigma,
            "validation_scores": scores,
            "split": args.split,
            "samples": len(means),
            **parzen.summarise(values),
        },
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infusion", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)
    defaults = argparse.ArgumentDefaultsHelpFormatter

    p = commands.add_parser(
        "prepare", help="prepare a dataset into an npz", formatter_class=defaults
    )
    p.add_argument("dataset")
    p.add_argument("--out", required=True)
    p.add_argument("--cache", default="results/downloads", help="where downloads are kept")
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
        "parzen", help="Parzen-window estimate (Fig 3.4)", formatter_class=defaults
    )
    p.add_argument("--samples", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--out", required=True)
    S.add_arguments(p, S.ParzenSettings)
    p.set_defaults(func=cmd_parzen)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        args.func(args)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        log.error("%s", error)
        sys.exit(1)
