"""Settings of each command, as commented dataclasses; their fields are the command-line flags
(:mod:`infusion.flags`), whose help is each field's comment here.

These are the one source of defaults: of the flags, and of the study config's keys of the
same names (:func:`infusion.config_schema.defaults` writes them into the config's schema and fills
them in where a config leaves a key out). Each default is the paper's MNIST setting
(sections 3.5 and A.1) where the paper gives one, else the authors' released code's, else
ours, as its comment says; the paper's and the code's values are stated once, in
:mod:`infusion.published`. ``config.yaml`` states every key; where it departs from a default
(e.g. the Parzen curve every 25 epochs), its comment gives the reason, and
``tests/test_defaults.py`` lists each departure.

Names of choices (objectives, networks, rate indexings, Parzen centres) are defined here and
the modules that implement them key their tables by these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infusion import published as paper
from infusion.runtime.compilation import COMPILE_MODES, check_compile_mode
from infusion.runtime.precision import PRECISIONS, check_precision
from infusion.schedules import SCHEDULES

# The training objectives, by name (infusion.process.infusion_process.InfusionProcess.objective)
OBJECTIVES = ("denoising", "lower_bound")
RATE_INDEXINGS = ("paper", "code")  # see ModelSettings.rate_index
PARZEN_CENTRES = ("sampling", "training")  # see ParzenSettings.chain_steps
# ParzenSettings.dequantize_test -> the name of its test points (parzen.json's by_test_points)
PARZEN_TEST_POINTS = {True: "dequantized", False: "raw"}
FIRST_RATES = ("alpha0", "growth")  # see ModelSettings.first_rate
SCHEDULE_KINDS = tuple(SCHEDULES)  # see ModelSettings.schedule
# The proposal that is the model's own training chain: the paper's procedure, the default
# (the proposals' names: infusion.process.proposals, which checks them where they are read)
OWN = "own"
CHANNEL_MASKS = ("element", "pixel")  # see ModelSettings.channel_mask
KEPT_MODELS = ("best", "last")  # see TrainSettings.keep
LAST_BATCHES = ("drop", "keep")  # see TrainSettings.last_batch
NETWORKS = ("mlp", "conv")  # keys of infusion.nets.networks.NETWORKS
# The choices of each field that has some (a field's name means the same in every dataclass):
# its flag lists them (infusion.flags), its __post_init__ checks them
CHOICES = {
    "schedule": SCHEDULE_KINDS, "rate_index": RATE_INDEXINGS, "first_rate": FIRST_RATES,
    "channel_mask": CHANNEL_MASKS, "network": NETWORKS, "objective": OBJECTIVES,
    "keep": KEPT_MODELS, "last_batch": LAST_BATCHES, "chain_steps": PARZEN_CENTRES,
    "precision": PRECISIONS, "compile": COMPILE_MODES,
}  # fmt: skip
# `infusion cost`: the rates measured before, by device, torch version and network
COST_RATES_CACHE = "results/cost/rates.json"


def check_choice(settings, name: str, choices: tuple[str, ...]) -> None:
    """``ValueError`` naming the field ``name`` when its value is not one of ``choices``."""
    value = getattr(settings, name)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")


def check_counts(settings, minimum: int, *names: str) -> None:
    """``ValueError`` naming the flag of the first of the fields ``names`` below ``minimum``
    (1 for counts that must be positive, 0 for those that may be zero)."""
    for name in names:
        value = getattr(settings, name)
        if value < minimum:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} ({name}) must be >= {minimum}, got {value}")


@dataclass
class Device:
    """Where a command runs its networks: the config section ``compute``, whose keys every
    stage's section (training, evaluation, sampling, ...) takes unless it states its own
    (e.g. ``inception.device``)."""

    device: str = "auto"  # "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...

    def __post_init__(self):
        if self.device != "auto" and not self.device.startswith(("cpu", "cuda")):
            raise ValueError(f"device must be auto, cpu or cuda[:N], got {self.device!r}")


@dataclass
class Compute(Device):
    """Where and how a command runs the transition operator (config section ``compute``, as
    :class:`Device`): its device, the precision of its forward passes and its compilation.
    fp32 and none, the defaults, give the faithful numbers; the others trade rounding or
    start-up for speed on GPUs (docs/performance.md)."""

    # fp32 (the faithful numbers), tf32 (TensorFloat-32 matrix products on CUDA; fp32 on a
    # CPU) or bf16 (the network in bfloat16, densities and losses in float32): see
    # infusion.runtime.precision
    precision: str = "fp32"
    # torch.compile the transition operator: none (eager), default (fused kernels) or
    # reduce-overhead (also CUDA graphs on a GPU); the same draws, rounding differences
    # only; compiling takes tens of seconds, repaid by long runs (infusion.runtime.compilation)
    compile: str = "none"

    def __post_init__(self):
        super().__post_init__()
        check_precision(self.precision)
        check_compile_mode(self.compile)


@dataclass
class ModelSettings:
    """The transition operator and the infusion process (a grid point is steps, alpha0, omega)."""

    steps: int = paper.STEPS  # T: transitions of the training chain (the paper's final model)
    alpha0: float = paper.ALPHA0  # infusion rate at step 0
    omega: float = paper.OMEGA  # increment: alpha_t = alpha0 + t * omega, clipped to [0, 1]
    # The kind of rate schedule, a function of infusion.schedules: linear (alpha0 + t omega,
    # the paper's; its first rate: first_rate). Every kind's rates are clipped to [0, 1] and
    # indexed by rate_index
    schedule: str = "linear"
    # Which rate draws z~^(t): paper (alpha0 + t omega, section 3.3.2's alpha^(t) =
    # alpha^(t-1) + omega) or code (alpha0 for z~^(0) and z~^(1), alpha0 + (t-1) omega after:
    # run_chaine_train_for in the authors' run.py adds omega after each step's draw). 15
    # steps, omega 0.01: paper 0, 0.01, ..., 0.14; code 0, 0, ..., 0.13. The bound's q uses
    # the rates the chain was drawn with (the model's own, unless a proposal names others)
    rate_index: str = "paper"
    # alpha^(0): alpha0 (the grid's, the paper's) or growth (omega: the hyperparameters
    # released with the authors' run.py give infuse_rate, alpha0, the value of
    # infuse_rate_growth, omega: 0.02 both, for 10 steps); the rates are
    # then omega + t omega (paper indexing) or omega, omega, 2 omega, ... (code indexing):
    # 15 steps, omega 0.01: 0.01, ..., 0.15 or 0.01, 0.01, ..., 0.14
    first_rate: str = "alpha0"
    # The infusion mask of a colour image: element (one Bernoulli draw per pixel and channel,
    # ours) or pixel (one per pixel, shared by its channels: the authors' run.py). The same
    # draws on 1-channel images
    channel_mask: str = "element"
    network: str = "mlp"  # transition operator: mlp (MNIST, TFD) or conv (CIFAR-10, CelebA)
    hidden: int = paper.HIDDEN  # mlp: units per hidden layer (the paper's)
    layers: int = paper.LAYERS  # mlp: hidden layers (the paper's)
    # conv: channels of the 4x4 map after the fully connected layer, halved by each hidden
    # transposed convolution (our choice, the paper gives no sizes: Salimans et al.'s CIFAR-10
    # generator, 512-256-128 for 32x32 images)
    conv_channels: int = 512
    conv_kernel: int = 5  # conv: transposed-convolution kernel side (our choice: Salimans' 5)
    beta: float = paper.BETA  # variance head: beta * sigmoid(h) + eps (the paper's beta)
    variance_eps: float = paper.VARIANCE_EPS  # eps of the variance head (the paper's)
    # variance of the infusion "delta" around x (authors' code)
    infusion_var: float = paper.INFUSION_VAR
    bn_eps: float = 1e-4  # batch-norm epsilon (authors' code)

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError(f"steps must be >= 1, got {self.steps}")
        for name in ("alpha0", "omega"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.rate_index not in RATE_INDEXINGS:
            raise ValueError(f"rate_index must be one of {RATE_INDEXINGS}, got {self.rate_index!r}")
        check_choice(self, "schedule", SCHEDULE_KINDS)
        check_choice(self, "first_rate", FIRST_RATES)
        check_choice(self, "channel_mask", CHANNEL_MASKS)
        if self.network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {self.network!r}")
        check_counts(self, 1, "hidden", "layers", "conv_channels", "conv_kernel")


@dataclass
class TrainSettings(Compute):
    """The training loop (authors' code: Adam with default settings)."""

    # the training objective: denoising (section 3.3.3.2, the paper's) or lower_bound
    # (section 3.3.4.1, its variant)
    objective: str = "denoising"
    epochs: int = paper.EPOCHS  # training epochs (the authors' code's)
    batch_size: int = paper.BATCH_SIZE  # training examples per minibatch (authors' code)
    lr: float = 1e-3  # Adam learning rate (authors' code: Adam defaults)
    seed: int = 0  # seeds parameters, data order and every chain
    # Add U(0, 1/256) to each training target, redrawn every batch (the authors' run.py does,
    # for training and validation targets; the paper's text does not say). Validation and
    # test points are dequantized in any case (section 3.5.1).
    dequantize_targets: bool = False
    # The model kept: best (the best validation lower bound, paper appendix A.1) or last (the
    # last epoch's, as the authors' run.py saves it)
    keep: str = "best"
    # Dequantize the training set, U(0, 1/256), for the pass that sets the kept model's
    # batch-norm statistics (the authors' run.py does; the text is silent)
    statistics_dequantize: bool = False
    # An epoch's ragged last batch (N mod batch_size examples): drop (ours) or keep it as a
    # smaller batch (the authors' run.py), except a lone example (batch norm needs two)
    last_batch: str = "drop"
    # Training examples: the first N of the training split (0: all of it, the paper's 50,000
    # on MNIST); the ladder's data rungs train on fewer (beyond the paper, issue 22)
    train_size: int = 0
    # Stop when the validation lower bound has not improved for N epochs (0: never, as in the
    # paper and the authors' run.py, which train every epoch and keep the best); with keep:
    # best the model kept is the same up to the stop
    patience: int = 0
    curve_examples: int = 10000  # examples of train and valid scored per epoch (lower bound)
    chain_targets: int = 4  # fixed training targets whose infusion chain is kept (Fig 3.2)
    chain_epochs: int = 10  # keep those chains after init and the first N epochs
    parzen_every: int = 0  # Fig 3.3's Parzen estimate on valid every N epochs (ours; 0: never)
    parzen_samples: int = 1000  # samples drawn for Fig 3.3's estimate (batch norm over them)
    parzen_sigma: float = paper.PARZEN_SIGMA  # Fig 3.3's kernel width (the paper's, MNIST)

    def __post_init__(self):
        super().__post_init__()
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        check_choice(self, "keep", KEPT_MODELS)
        check_choice(self, "last_batch", LAST_BATCHES)
        check_counts(self, 2, "batch_size")
        check_counts(self, 1, "epochs", "curve_examples", "parzen_samples")
        check_counts(self, 0, "seed", "chain_targets", "chain_epochs", "parzen_every")
        check_counts(self, 0, "train_size", "patience")
        if not (self.lr > 0 and self.parzen_sigma > 0):
            raise ValueError(f"lr and parzen_sigma must be > 0, got {self.lr}, {self.parzen_sigma}")


@dataclass
class EvalSettings(Compute):
    """The likelihood estimators of Table 3.1 (footnote 4)."""

    split: str = "test"  # which split to score
    examples: int = paper.TABLE_3_1_EXAMPLES["test"]  # examples scored, the first ones (paper's)
    chains: int = paper.IS_CHAINS  # k infusion chains per example (the paper's for IS)
    # repetitions, fresh dequantization and chains each (the paper's mean and std over them)
    repetitions: int = paper.REPETITIONS
    isotropic_examples: int = 1000  # validation examples fixing the isotropic variance; 0: skip
    isotropic_chains: int = 10  # chains per validation example fixing the isotropic variance
    # The infusion chain q that draws and scores the chains (infusion.process.proposals): own
    # (the model's own training chain: the paper's procedure), own-x<scale> (its rates times
    # scale) or the schedule <paper|code>-a<alpha0>-w<omega>[-x<scale>]
    proposal: str = OWN
    chain_batch: int = 16384  # chains evaluated in one forward pass (memory bound)
    seed: int = 1  # seeds the dequantization and the chains (ours)

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, 1, "examples", "chains", "repetitions", "isotropic_chains")
        check_counts(self, 1, "chain_batch")
        check_counts(self, 0, "isotropic_examples", "seed")


@dataclass
class ConvergenceSettings(Compute):
    """The estimates against the number of chains k (beyond the paper: issue 15, question 3).

    Each repetition draws max(chains) chains per test image once and scores every k on the
    first k of them (prefixes), so the curve of one repetition is one set of draws.
    """

    chains: list[int] = field(default_factory=lambda: [1, 10, 100, 1000, 10000])  # k (ours)
    examples: int = 100  # test images scored, the first ones (ours)
    repetitions: int = 10  # repetitions, fresh dequantization and chains each (Table 3.1's 10)
    proposal: str = OWN  # the infusion chain q of the chains, as EvalSettings.proposal
    chain_batch: int = 16384  # chains evaluated in one forward pass (memory bound)
    seed: int = 1  # Table 3.1's evaluation seed

    def __post_init__(self):
        super().__post_init__()
        if not self.chains or min(self.chains) < 1:
            raise ValueError(f"chains must be a non-empty list of counts >= 1, got {self.chains}")
        check_counts(self, 1, "examples", "repetitions", "chain_batch")
        check_counts(self, 0, "seed")


@dataclass
class SearchSettings(Compute):
    """The search for the tightest proposal on validation data (beyond the paper: issue 21).

    Whatever q scores a model (infusion.process.proposals), the IS estimate is a stochastic
    lower bound on log p(x) in expectation, so the q of the highest estimate is the tightest;
    choosing it on validation images and scoring the test images under it is fair. Every
    candidate (infusion.estimation.proposal_search.candidate_proposals) is scored on the same
    dequantized validation images with the same chain noise.
    """

    examples: int = 100  # validation images scored, the first ones (ours)
    chains: int = 100  # k infusion chains per image for each candidate (ours)
    # factors of the candidates' rates: the model's schedule scaled from about a thirtieth,
    # halving, to half as much again (ours: from 0.25, the lowest, every model of the
    # fidelity ablation at the quick scale chose 0.25, the edge of the set, on 2 December
    # 2026, so the set goes three halvings further down)
    scales: list[float] = field(default_factory=lambda: [0.03, 0.06, 0.12, 0.25, 0.5, 1.0, 1.5])
    chain_batch: int = 16384  # chains evaluated in one forward pass (memory bound)
    seed: int = 5  # dequantization and chains (ours; distinct from the other seeds)

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, 1, "examples", "chains", "chain_batch")
        check_counts(self, 0, "seed")
        if not self.scales or min(self.scales) <= 0:
            raise ValueError(
                f"--scales (scales) must be a non-empty list of factors > 0, got {self.scales}"
            )


@dataclass
class SampleSettings(Compute):
    """Model sampling chains (Fig 3.1, 3.5) and the samples scored by Parzen (Fig 3.4)."""

    samples: int = paper.PARZEN_SAMPLES  # samples drawn (the paper's for Parzen)
    # steps of each sampling chain (the paper's for its 15-step model)
    sampling_steps: int = paper.SAMPLING_STEPS
    figure_chains: int = 20  # chains kept step by step for figures
    infusion_targets: int = 10  # test images whose infusion chain is kept (Fig A.2), with --data
    sampling_eps: float = 1e-5  # variance eps while sampling (authors' code)
    batch: int = 2500  # chains per forward pass
    seed: int = 2  # seeds the sampling chains (ours)

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, 1, "samples", "sampling_steps", "batch")
        check_counts(self, 0, "figure_chains", "infusion_targets", "seed")


@dataclass
class InpaintSettings(Compute):
    """Inpainting (Fig 3.6): top halves of test images clamped, bottom halves sampled."""

    images: int = 8  # test images, the first ones (ours; the paper shows a few rows)
    completions: int = 8  # sampling chains per image (ours)
    sampling_steps: int = 15  # the CelebA model's training steps (ours)
    sampling_eps: float = 1e-5  # variance eps while sampling (authors' code)
    seed: int = 4  # seeds the completions (ours)

    def __post_init__(self):
        super().__post_init__()
        check_counts(self, 1, "images", "completions", "sampling_steps")
        check_counts(self, 0, "seed")


@dataclass
class ParzenSettings:
    """Parzen-window estimate (Fig 3.4; Breuleux et al. / Goodfellow et al. protocol)."""

    # the kernel width (the paper's, MNIST); 0 chooses it on validation data from sigma_grid
    sigma: float = paper.PARZEN_SIGMA
    # Kernel centres: the means of the last sampling step (sampling, sampling_steps of the
    # samples file) or of step T, the model's training steps (training: the authors' run.py,
    # run_chaine_samples_for(num_steps)). Both are estimated; this one is Fig 3.4's number.
    chain_steps: str = "sampling"
    # Test (and validation) points: dequantized with U(0, 1/256) (true, section 3.5.1) or the
    # pixels / 256 as they are (false: the authors' run.py). Both are estimated; this one is
    # Fig 3.4's number
    dequantize_test: bool = True
    # the widths tried when sigma is 0, the best log-likelihood of the validation points
    # chosen (Breuleux et al.'s protocol; ours: 10 widths from 0.1 to 1, log-spaced)
    sigma_grid: list[float] = field(default_factory=lambda: [10 ** (-1 + i / 9) for i in range(10)])
    examples: int = 10000  # test points scored
    batch: int = 1000  # test points per block (memory bound, never N x M x d)
    seed: int = 3  # seeds the test points' dequantization (ours)

    def __post_init__(self):
        if self.chain_steps not in PARZEN_CENTRES:
            raise ValueError(
                f"chain_steps must be one of {PARZEN_CENTRES}, got {self.chain_steps!r}"
            )
        check_counts(self, 1, "examples", "batch")
        check_counts(self, 0, "seed")
        if self.sigma < 0 or not self.sigma_grid or min(self.sigma_grid) <= 0:
            raise ValueError("sigma must be >= 0 and sigma_grid a non-empty list of widths > 0")


@dataclass
class InceptionSettings(Device):
    """Inception score (Table 3.2; Salimans et al. 2016) and FID, through torch-fidelity."""

    images: int = paper.INCEPTION_SAMPLES  # images scored, the first ones of the file (the paper's)
    splits: int = 10  # consecutive splits the score is averaged over (Salimans et al.: 10)
    batch: int = 100  # images per Inception forward pass (memory bound)

    def __post_init__(self):
        check_counts(self, 1, "images")
        if not 1 <= self.splits <= self.images:
            raise ValueError(f"splits must lie in [1, images = {self.images}], got {self.splits}")
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        super().__post_init__()
