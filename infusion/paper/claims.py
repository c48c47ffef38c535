"""The paper's claims about its results (chapter 3 and appendix A of the thesis), each a
computed check on the run's own tables: artifact ``claims`` (``results/tables/claims.csv``).

A claim is data (:class:`Claim`): its id, its text, its source (the section or table, with
a short quote copied verbatim from the thesis), its test (what makes it hold and what makes
it fail), and the function that computes ``ours`` (the numbers compared, as a short text),
the noise it was decided against and the verdict, by the one judging rule of
:mod:`infusion.paper.judging` (shared with the verdicts on the paper's numbers):

- **holds** / **fails**: the run's tables show it, or its contrary, beyond ``stds`` (config
  ``verdicts.stds``) times the compared numbers' noises in quadrature; the ``noise``
  column names them (a seed std over two or more training seeds, an estimate's own error);
- **undecided**: the difference lies inside the noise, or a noise is unknown (a trained
  model's number from one training seed);
- **not run**: the study did not make the table the test needs (a section off, a panel
  not in the grid); **not run (other scale)** where the claim sets ours against other
  models' numbers published at the paper's scale and the study ran at another (ours is
  shown).

Claims considered and left out: "IS above the lower bound" (Table 3.1): both come from the
same chains' log weights, so IS >= bound always (Jensen's inequality), and the text gives
the gap no size: no table could make it fail. The claims of sample quality (Fig A.2, A.1,
Table A.1's caption, 3.5.2) are listed but not run: their score, a digit classifier's
features, is not built yet, and Parzen, the only score of samples here, ranks blurred
T-step means above real test digits (docs/beyond.md), against what those claims mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from infusion import study
from infusion.paper import claim_checks as checks
from infusion.paper import verdicts
from infusion.paper.artifacts import artifact
from infusion.paper.claim_checks import Judged, Tables
from infusion.paper.tables import (
    FIG_3_4_COLUMNS,
    OBJECTIVE_COLUMNS,
    TABLE_3_2_COLUMNS,
    TABLE_A1_COLUMNS,
)
from infusion.paper.tidy import PathLike, read_table, write_csv

CLAIM_COLUMNS = ["id", "claim", "source", "test", "ours", "noise", "verdict"]


@dataclass(frozen=True)
class Claim:
    """A claim of the paper; ``test`` may name the tolerance's multiplier as ``{stds}``."""

    id: str
    claim: str
    source: str
    test: str
    judge: Callable[[Tables, float], Judged]


BEYOND = "beyond {stds} x the noises in quadrature"
SAMPLE_QUALITY = (
    "no sample-quality score in this version (Parzen ranks blurred means above real digits)"
)


def _sample_quality_pending(t: Tables, stds: float) -> Judged:
    return Judged(SAMPLE_QUALITY, checks.NOT_RUN)


CLAIMS = (
    Claim(
        "infusion-beats-rate-0",
        "In every sub-table of Table A.1, some infusion rate gives a higher test bound than "
        "rate 0.",
        'A.1, Table A.1: "If the number of steps is not enough or the infusion rate is too '
        "small, the network will not be able to learn the target distribution as shown in "
        'the first rows of all subsection in Table A.1."',
        "Per panel (a)-(d) (Table A.1's sub-tables; not the constant rates of Fig A.1 e, f) "
        f"that ran rate 0 and another rate: holds when the best bound above rate 0 exceeds "
        f"rate 0's {BEYOND} in every panel, fails when it is below rate 0's beyond them in one.",
        checks.infusion_beats_rate_0,
    ),
    Claim(
        "too-few-steps-fail",
        "One step learns less than more steps: each multi-step panel's best test bound is "
        "above the one-step panel's.",
        'A.1: "If the number of steps is not enough or the infusion rate is too small, the '
        'network will not be able to learn the target distribution"',
        "Best bound of each of panels (b)-(d) against panel (a)'s (one step): holds when "
        f"every one exceeds it {BEYOND}, fails when one is below it beyond them.",
        checks.too_few_steps_fail,
    ),
    Claim(
        "best-rate-falls-with-steps",
        "The more steps, the smaller the best infusion rate, for increasing and for constant "
        "rates.",
        'A.1, Fig A.1: "as the number of steps increases, the optimal value for infusion '
        'rate decreases" and "These conclusions are valid for both increasing and constant '
        'infusion rate."',
        "A panel's best rates: those whose bound its best does not exceed beyond {stds} x "
        "the noises. In each family (increasing: panels b-d; constant: one step, e, f), per "
        "two panels of 3 or more rates at different steps: holds when every best rate at more "
        "steps is below every one at fewer, fails when above, both only where the best rates "
        "lie inside their grids (not at rate 0 nor at the grid's highest rate: the optimum "
        "is not located there); undecided otherwise.",
        checks.best_rate_falls_with_steps,
    ),
    Claim(
        "too-high-rate-collapses",
        "Beyond the best rate, the test bound falls.",
        "Table A.1's last rows ((A) 0.9: -161.37; (D) 0.06: -941.78); A.1: \"the networks "
        'in Figure A.1e and A.1f overfit when the infusion rate becomes too high"',
        "Per panel whose grid runs a rate above the paper's best rate for it (Table A.1's "
        "best row; 0.08 and 0.06 for e, f): the best bound below the panel's highest rate "
        f"against the highest rate's; holds when above it {BEYOND} in every such panel, fails "
        "when below it beyond them in one (the bound still rises).",
        checks.too_high_rate_collapses,
    ),
    Claim(
        "constant-rate-optima",
        "The best constant rate is 0.08 at 10 steps (Fig A.1e) and 0.06 at 15 (Fig A.1f).",
        'A.1: "the optimal α for a constant infusion rate, in Figure A.1e with 10 steps is '
        '0.08 and in Figure A.1f with 15 steps is 0.06."',
        "Per panel (e), (f) at its paper steps that ran the stated optimum and another rate: "
        f"holds when the optimum's bound exceeds every other rate's {BEYOND} and the grid has "
        "rates on both sides of it, fails when some rate's bound exceeds the optimum's beyond "
        "them.",
        checks.constant_rate_optima,
    ),
    Claim(
        "increasing-beats-constant",
        "An increasing infusion rate gives better samples than a constant one.",
        'Fig A.2: "Increasing infusion rate leads to more visually appealing samples."',
        "The final model's samples against the constant-rate model's, by a digit "
        "classifier's Frechet distance (not built yet).",
        _sample_quality_pending,
    ),
    Claim(
        "bound-alone-misleads",
        "A model with few steps can have a high bound without good samples.",
        'A.1: "we can see high lower bound values on the test set with few steps even if the '
        "model can't generate samples that are qualitatively satisfying\"",
        "Some grid point of fewer steps with a higher test bound and worse samples (a digit "
        "classifier's Frechet distance, not built yet) than one of more steps.",
        _sample_quality_pending,
    ),
    Claim(
        "more-steps-better-samples",
        "More steps give better samples; the best at 15 steps and omega 0.01.",
        "Table A.1's caption: \"Higher number of steps contributes to better qualitative "
        'samples, as the best samples can be seen with 15 steps using" α = 0.01',
        "The best samples (a digit classifier's Frechet distance, not built yet) at the most "
        "steps against those of each panel of fewer.",
        _sample_quality_pending,
    ),
    Claim(
        "no-copying",
        "The samples are not copies of training images.",
        "3.5.2: \"To make sure that our network didn't learn to copy the training set, we show "
        'in the last column the nearest training-set neighbor to the samples"',
        "Each sample's nearest training image against its nearest image in an equal-sized "
        "held-out real set, in a digit classifier's features (not built yet).",
        _sample_quality_pending,
    ),
    Claim(
        "parzen-above-baselines",
        "The Parzen estimate is above every model Fig 3.4 lists.",
        'Fig 3.4 (ours 312 ± 1.7, the next GMMN + AE 282 ± 2); 3.5.1: "we use it as our '
        'first comparison tool, even if it can be misleading"',
        "At the paper's scale only (the baselines' numbers are theirs at it): ours (seed "
        f"mean) against each baseline's published mean; holds when above every one {BEYOND} "
        "(our seed std and standard error, the baseline's), fails when below one.",
        checks.parzen_above_baselines,
    ),
    Claim(
        "lower-bound-training-similar",
        "Training on the lower bound gives results similar to denoising training.",
        '3.6, of the procedure of 3.3.4.1: "we obtained similar results on the few problems '
        'we tried with lower-bound-based infusion training."',
        "Equivalence (two one-sided tests) against the margin verdicts.similar_margin, at "
        "every point of the lower-bound-training table, for the test bound, the IS and the "
        "Parzen estimates: holds when |lower bound - denoising| + {stds} x the seed stds in "
        "quadrature < the margin at every one, fails when |difference| - that > the margin at "
        "one; undecided otherwise (one seed: always).",
        checks.lower_bound_training_similar,
    ),
    Claim(
        "inception-above-gan",
        "The Inception score is above the GAN trained without labels.",
        '3.5.1: "we can see in Table 3.2 that our model outperforms the traditional GAN '
        'trained without labeled data." (-L: 4.36 ± .06; ours 4.62 ± .06)',
        "At the paper's scale only: our Inception score against -L's published 4.36; holds "
        f"when above {BEYOND} (ours: one trained model, so its seed spread is unknown and the "
        "verdict undecided), fails when below.",
        checks.inception_above_gan,
    ),
)


def judge(tables: Tables, stds: float) -> pd.DataFrame:
    """Every claim of :data:`CLAIMS` judged on ``tables``, as :data:`CLAIM_COLUMNS`."""
    rows = []
    for claim in CLAIMS:
        judged = claim.judge(tables, stds)
        rows.append(
            {
                "id": claim.id,
                "claim": claim.claim,
                "source": claim.source,
                "test": claim.test.format(stds=stds),
                "ours": judged.ours,
                "noise": judged.noise,
                "verdict": judged.verdict,
            }
        )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def other_scale(config: dict) -> dict[str, list[str]]:
    """Per paper table, the loaded study's (:func:`infusion.study.load`) settings that set
    another scale than the paper's (:func:`infusion.paper.verdicts.scale_differences`)."""
    settings = verdicts.study_settings(config)
    return {
        table: verdicts.scale_differences(table, settings, {}, scale_only=True)
        for table in verdicts.TABLES
    }


@artifact("claims")
def claims(
    config: PathLike,
    table_a_1: PathLike,
    fig_3_4: PathLike,
    out: PathLike,
    configfile: list[PathLike] = (),
    table_3_2: PathLike | None = None,
    lower_bound_training: PathLike | None = None,
) -> pd.DataFrame:
    """``claims.csv`` (``out``, :data:`CLAIM_COLUMNS`): every claim of :data:`CLAIMS`
    judged on Table A.1 and Fig 3.4's table, and where the study made them Table 3.2
    (``table_3_2``) and the lower-bound-training table (``lower_bound_training``; the claims
    that need one without it are not run), for the study ``config`` with the overlays
    ``configfile`` (its scale, and config ``verdicts``: the tolerance's multiplier
    ``stds``, the equivalence margin ``similar_margin``). Returns the table."""
    loaded = study.load(config, configfile)
    tables = Tables(
        a1=read_table(table_a_1, TABLE_A1_COLUMNS),
        f34=read_table(fig_3_4, FIG_3_4_COLUMNS),
        t32=read_table(table_3_2, TABLE_3_2_COLUMNS) if table_3_2 is not None else None,
        objectives=(
            read_table(lower_bound_training, OBJECTIVE_COLUMNS)
            if lower_bound_training is not None
            else None
        ),
        other_scale=other_scale(loaded),
        similar_margin=loaded["verdicts"]["similar_margin"],
    )
    return write_csv(judge(tables, loaded["verdicts"]["stds"]), out)
