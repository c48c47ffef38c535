"""What each ``infusion`` command does (:mod:`infusion.cli` parses its flags): one thin
handler a command, which turns the parsed flags into the settings and calls the package."""

from __future__ import annotations

import logging
from pathlib import Path

from infusion import settings as S
from infusion.flags import from_arguments

log = logging.getLogger("infusion")


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

    model_settings = from_arguments(S.ModelSettings, args)
    train_settings = from_arguments(S.TrainSettings, args)
    train_file(args.data, model_settings, train_settings, args.out, args.checkpoint)


def scoring_settings(cls, args):
    """The settings of a command that scores under a proposal, its ``--proposal`` checked
    before any file is read."""
    from infusion.process.proposals import parse_proposal

    settings = from_arguments(cls, args)
    parse_proposal(settings.proposal)
    return settings


def cmd_evaluate(args) -> None:
    from infusion.estimation.evaluation import evaluate_file

    settings = scoring_settings(S.EvalSettings, args)
    evaluate_file(args.model, args.data, settings, args.out, args.proposal_from)


def cmd_convergence(args) -> None:
    from infusion.estimation.against_k import convergence_file

    settings = scoring_settings(S.ConvergenceSettings, args)
    convergence_file(args.model, args.data, settings, args.out, args.proposal_from)


def cmd_search_proposal(args) -> None:
    from infusion.estimation.proposal_search import search_file

    search_file(args.model, args.data, from_arguments(S.SearchSettings, args), args.out)


def cmd_sample(args) -> None:
    from infusion.sampling.samples import sample_file

    sample_file(args.model, args.data, from_arguments(S.SampleSettings, args), args.out)


def cmd_inpaint(args) -> None:
    from infusion.sampling.inpainting import inpaint_file

    inpaint_file(args.model, args.data, from_arguments(S.InpaintSettings, args), args.out)


def cmd_parzen(args) -> None:
    from infusion.estimation.parzen import estimate_file, estimate_real_file

    settings = from_arguments(S.ParzenSettings, args)
    if args.samples:
        estimate_file(args.samples, args.data, args.split, settings, args.out)
    else:
        estimate_real_file(args.data, args.split, args.real_centres, settings, args.out)


def cmd_inception(args) -> None:
    from infusion.estimation.inception import score_file

    score_file(
        args.out,
        from_arguments(S.InceptionSettings, args),
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


def cmd_artifact(args) -> None:
    from infusion.cli.catalogue import make

    make(args.id, args.flags)


def cmd_cost(args) -> None:
    from infusion import cost, study

    config = study.load(args.config, args.configfile)  # validated against the packaged schema
    if args.gpus is not None and args.gpus < 1:
        raise ValueError(f"--gpus {args.gpus}: expected at least 1")
    rate_flags = (args.examples_per_s, args.chain_steps_per_s, args.startup_s)
    cache = None if args.no_cache else Path(args.cache)
    cost.report_cost(config, args.device, *rate_flags, out=args.out, gpus=args.gpus, cache=cache)
