"""The paper's text against the authors' released code: the switches and the ablation's
variants (the settings each variant changes; its runs' tags: :mod:`infusion.runs`).

The paper's numbers were produced by the authors' code (bordesf/Infusion, ``run.py``). Where
it differs from the text, both behaviours are config keys (the text, or our choice where it is
silent, is the default); each difference is a :class:`Switch`. The ablation (config section
``fidelity``) trains the final model with no switch flipped (``paper``), each alone, and all
together (``code``: all but those that are another reading of the code). A switch that cannot
change a 1-channel image is left out of the ablation of a grayscale study
(:func:`study_switches`).

"""

from __future__ import annotations

from dataclasses import dataclass

from infusion.data.registry import dataset_spec

TRAINED_SECTIONS = ("model", "training")  # the config sections that change a trained model


@dataclass(frozen=True)
class Switch:
    """One difference: the config key (``section.key``), its value in the paper's text (or
    ours) and in the authors' code, and where each comes from. ``in_code``: whether the
    ``code`` variant flips it (not for another reading of the code); ``colour_only``: whether
    it changes nothing on 1-channel images (the ablation of a grayscale study leaves it out)."""

    name: str
    section: str
    key: str
    paper: object
    code: object
    source: str
    in_code: bool = True
    colour_only: bool = False

    @property
    def trains(self) -> bool:
        """Whether the switch changes the trained model (else only its scoring)."""
        return self.section in TRAINED_SECTIONS


SWITCHES = (
    Switch(
        "rate_index", "model", "rate_index", "paper", "code",
        "z~(t) drawn at alpha0 + t omega (section 3.3.2) or, as run_chaine_train_for draws "
        "before adding omega, z~(0) and z~(1) at alpha0 and z~(t) at alpha0 + (t-1) omega",
    ),
    Switch(
        "first_rate", "model", "first_rate", "alpha0", "growth",
        "alpha(0) the grid's alpha0 or omega (the hyperparameters released with run.py set "
        "infuse_rate = infuse_rate_growth = 0.02): another reading of the code, not in its variant",
        in_code=False,
    ),
    Switch(
        "layers", "model", "layers", 2, 1,
        "two hidden layers of 1,200 units (sections 3.5, A.1) or one (build_MLP_mnist_bn)",
    ),
    Switch(
        "dequantize_targets", "training", "dequantize_targets", False, True,
        "training targets as they are (the text is silent) or plus U(0, 1/256) each batch "
        "(run.py's training loop)",
    ),
    Switch(
        "parzen_centres", "parzen", "chain_steps", "sampling", "training",
        "Parzen centres from the sampling chains' last step (30 steps for the 15-step model, "
        "as the paper's figures) or from step T (run_chaine_samples_for(num_steps))",
    ),
    Switch(
        "keep", "training", "keep", "best", "last",
        "the model of the best validation lower bound (appendix A.1) or of the last epoch "
        "(run.py saves the model after its training loop)",
    ),
    Switch(
        "statistics_dequantize", "training", "statistics_dequantize", False, True,
        "the batch-norm statistics pass over the training set as it is (the text is silent) "
        "or plus U(0, 1/256) (run.py's statistics pass)",
    ),
    Switch(
        "last_batch", "training", "last_batch", "drop", "keep",
        "an epoch's ragged last batch dropped (ours) or trained on as a smaller batch "
        "(run.py's minibatch loop)",
    ),
    Switch(
        "channel_mask", "model", "channel_mask", "element", "pixel",
        "the infusion mask drawn per pixel and channel (ours) or per pixel, shared by its "
        "channels (run.py); colour images only, the same draws on 1-channel ones",
        colour_only=True,
    ),
    Switch(
        "parzen_test_points", "parzen", "dequantize_test", True, False,
        "Parzen's test points plus U(0, 1/256) (section 3.5.1) or as they are (run.py "
        "scores the pixels / 256)",
    ),
)  # fmt: skip
SWITCH_NAMES = tuple(s.name for s in SWITCHES)
VARIANTS = ("paper", *SWITCH_NAMES, "code")


def study_switches(config: dict) -> tuple[Switch, ...]:
    """The switches that can change the study's numbers: all of them on a colour dataset,
    all but the colour-only ones on a 1-channel dataset (``dataset``)."""
    colour = dataset_spec(config["dataset"]).shape[0] > 1
    return tuple(s for s in SWITCHES if colour or not s.colour_only)


def study_variants(config: dict) -> tuple[str, ...]:
    """The ablation's variants for the study (:func:`study_switches`), in table order: those
    of config ``fidelity.variants`` only, where it names some (null: all)."""
    variants = ("paper", *(s.name for s in study_switches(config)), "code")
    chosen = config["fidelity"].get("variants")
    return tuple(v for v in variants if v in chosen) if chosen else variants


def variant_values(
    variant: str, switches: tuple[Switch, ...] = SWITCHES
) -> dict[tuple[str, str], object]:
    """{(section, key): value} of every switch of ``switches`` in ``variant``: the paper's
    value except the flipped ones (one switch for a switch's name; for ``code``, every switch
    the code's variant includes)."""
    variants = ("paper", *(s.name for s in switches), "code")
    if variant not in variants:
        raise ValueError(f"unknown fidelity variant {variant!r}; expected one of {variants}")
    flipped = [s.name for s in switches if s.in_code] if variant == "code" else [variant]
    return {(s.section, s.key): s.code if s.name in flipped else s.paper for s in switches}
