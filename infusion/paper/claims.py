"""The paper's claims about its results (chapter 3 and appendix A of the thesis), each a
computed check on the run's own tables: artifact ``claims`` (``results/tables/claims.csv``).

A claim is data (:class:`Claim`): its id, its text, its source (the section or table, with
a short quote copied verbatim from the thesis), its test with the tolerance, and the
function that computes ``ours`` (the numbers compared, as a short text) and the verdict:

- **holds**: the run's tables show it beyond the tolerance;
- **fails**: they show the contrary, or not beyond the tolerance;
- **not run**: the study did not make the table the test needs (a section off, a panel
  not in the grid, too few training seeds), or the text makes no numerical claim.

Tolerances add the noises of the compared numbers in quadrature, times ``stds`` (config
``verdicts.stds``): the std over training seeds (ddof 1; 0 with one seed, whose spread is
unknown) and the estimate's own error where its table carries one (Table 3.1: std over
repetitions; Fig 3.4: standard error; Table 3.2: std over splits; Table A.1 and the
lower-bound-training table: none). A number is the seed mean with two or more seeds, the
first seed's otherwise, as the verdicts (:mod:`infusion.paper.verdicts`) take them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from infusion.paper import claim_checks as checks
from infusion.paper.artifacts import artifact
from infusion.paper.claim_checks import Judged, Tables
from infusion.paper.tables import (
    FIG_3_4_COLUMNS,
    OBJECTIVE_COLUMNS,
    TABLE_3_1_COLUMNS,
    TABLE_3_2_COLUMNS,
    TABLE_A1_COLUMNS,
)
from infusion.paper.tidy import PathLike, read_table, write_csv

CLAIM_COLUMNS = ["id", "claim", "source", "test", "ours", "verdict"]


@dataclass(frozen=True)
class Claim:
    """A claim of the paper; ``test`` may name the tolerance's multiplier as ``{stds}``."""

    id: str
    claim: str
    source: str
    test: str
    judge: Callable[[Tables, int], Judged]


NOISE = (
    "tolerance {stds} x (seed stds in quadrature; 0 with one seed, Table A.1's bound having "
    "no estimate error)"
)
CLAIMS = (
    Claim(
        "infusion-beats-rate-0",
        "At every number of steps, some infusion rate gives a higher test bound than rate 0.",
        'A.1, Table A.1: "If the number of steps is not enough or the infusion rate is too '
        "small, the network will not be able to learn the target distribution as shown in "
        'the first rows of all subsection in Table A.1."',
        "Per panel of Table A.1 that ran rate 0 and another rate: the best bound at a rate "
        f"above 0 exceeds the rate-0 bound by more than the {NOISE}; holds when every such "
        "panel does.",
        checks.infusion_beats_rate_0,
    ),
    Claim(
        "best-rate-falls-with-steps",
        "The more steps, the smaller the best infusion rate, for increasing and for constant "
        "rates.",
        'A.1, Fig A.1: "as the number of steps increases, the optimal value for infusion '
        'rate decreases" and "These conclusions are valid for both increasing and constant '
        'infusion rate."',
        "Best rates: a panel's rates whose bound is within the tolerance of its best "
        f"({NOISE}). In each family (increasing: panels b-d; constant: a single step, e, f), "
        "for every two panels of different steps, every best rate at more steps is below "
        "every best rate at fewer; holds when both families do, not run when a family has fewer "
        "than two panels of different steps.",
        checks.best_rate_falls_with_steps,
    ),
    Claim(
        "too-high-rate-collapses",
        "Beyond the best rate, the test bound falls.",
        "Table A.1's last rows ((A) 0.9: -161.37; (D) 0.06: -941.78); A.1: \"the networks "
        'in Figure A.1e and A.1f overfit when the infusion rate becomes too high"',
        "Per panel whose grid goes beyond its best rate: the bound at its highest rate is "
        f"below the best bound by more than the {NOISE}; a panel whose best is its highest "
        "rate shows nothing; not run when no panel goes beyond its best.",
        checks.too_high_rate_collapses,
    ),
    Claim(
        "increasing-beats-constant",
        "An increasing infusion rate gives better samples than a constant one.",
        'Fig A.2: "Increasing infusion rate leads to more visually appealing samples."',
        "Not computed: the text makes no numerical claim (Fig A.2 compares the samples of "
        "the constant-rate and final models by eye), and no table of the run scores the "
        "constant-rate model's samples (a Parzen estimate or nearest-neighbour distance of "
        "its samples would be needed).",
        checks.increasing_beats_constant,
    ),
    Claim(
        "is-above-bound",
        "The final model's IS estimate exceeds its lower bound by a gap of the paper's order.",
        "Table 3.1 (IS 1836.27 against lower bound 1350.598 on test, 1837.560 against "
        '1230.305 on train); its caption: "we applied both our lower bound and importance '
        'sampling (IS) log-likelihood estimates to it."',
        "On test and on train: IS - lower bound exceeds tolerance {stds} x (seed stds and "
        "stds over repetitions of both estimates, in quadrature), and lies within a factor "
        "sqrt(10) of the paper's gap (485.7 on test, 607.3 on train) either way: the same "
        "order of magnitude.",
        checks.is_above_bound,
    ),
    Claim(
        "parzen-above-baselines",
        "The Parzen estimate is above every model Fig 3.4 lists.",
        'Fig 3.4 (ours 312 ± 1.7, the next GMMN + AE 282 ± 2); 3.5.1: "we use it as our '
        'first comparison tool, even if it can be misleading"',
        "Ours (seed mean) exceeds each baseline's published mean by more than tolerance "
        "{stds} x (our seed std, our standard error and the baseline's, in quadrature).",
        checks.parzen_above_baselines,
    ),
    Claim(
        "lower-bound-training-similar",
        "Training on the lower bound gives results similar to denoising training.",
        '3.6, of the procedure of 3.3.4.1: "we obtained similar results on the few problems '
        'we tried with lower-bound-based infusion training."',
        "At every point of the lower-bound-training table, for the test bound, the IS and the "
        "Parzen estimates: |lower bound - denoising| (seed means) <= tolerance {stds} x (both "
        "seed stds in quadrature); not run with one seed (no spread to judge by) or with "
        "lower_bound_training off.",
        checks.lower_bound_training_similar,
    ),
    Claim(
        "bound-alone-misleads",
        "A model with few steps can have a high bound without good samples.",
        'A.1: "we can see high lower bound values on the test set with few steps even if the '
        "model can't generate samples that are qualitatively satisfying\"",
        "Among the denoising points of the lower-bound-training table (each panel's best "
        "rate; Parzen of their samples as the sample-quality score): some point of fewer "
        "steps has a higher test bound and a lower Parzen estimate than one of more steps, "
        "both by more than tolerance {stds} x (seed stds in quadrature); not run without "
        "that table (lower_bound_training off), as no other table scores samples per grid "
        "point.",
        checks.bound_alone_misleads,
    ),
    Claim(
        "more-steps-better-samples",
        "More steps give better samples.",
        'Table A.1\'s caption: "Higher number of steps contributes to better qualitative samples"',
        "Among the denoising points of the lower-bound-training table: the highest Parzen "
        "estimate at the most steps exceeds that of every point of fewer steps by more than "
        "tolerance {stds} x (seed stds in quadrature); not run without that table.",
        checks.more_steps_better_samples,
    ),
    Claim(
        "inception-above-gan",
        "The Inception score is above the GAN trained without labels.",
        '3.5.1: "we can see in Table 3.2 that our model outperforms the traditional GAN '
        'trained without labeled data." (-L: 4.36 ± .06; ours 4.62 ± .06)',
        "Our Inception score exceeds -L's published 4.36 by more than tolerance {stds} x "
        "(our std over splits and -L's error, in quadrature); not run without Table 3.2 "
        "(CIFAR-10).",
        checks.inception_above_gan,
    ),
)


def judge(tables: Tables, stds: int) -> pd.DataFrame:
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
                "verdict": judged.verdict,
            }
        )
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


@artifact("claims")
def claims(
    table_a_1: PathLike,
    table_3_1: PathLike,
    fig_3_4: PathLike,
    out: PathLike,
    *,
    stds: int,
    table_3_2: PathLike | None = None,
    lower_bound_training: PathLike | None = None,
) -> pd.DataFrame:
    """``claims.csv`` (``out``, :data:`CLAIM_COLUMNS`): every claim of :data:`CLAIMS`
    judged on Table A.1, Table 3.1 and Fig 3.4's table, and where the study made them
    Table 3.2 (``table_3_2``) and the lower-bound-training table (``lower_bound_training``;
    the claims that need one without it are not run). ``stds``: the tolerance's multiplier
    (config ``verdicts.stds``). Returns the table."""
    tables = Tables(
        a1=read_table(table_a_1, TABLE_A1_COLUMNS),
        t31=read_table(table_3_1, TABLE_3_1_COLUMNS),
        f34=read_table(fig_3_4, FIG_3_4_COLUMNS),
        t32=read_table(table_3_2, TABLE_3_2_COLUMNS) if table_3_2 is not None else None,
        objectives=(
            read_table(lower_bound_training, OBJECTIVE_COLUMNS)
            if lower_bound_training is not None
            else None
        ),
    )
    return write_csv(judge(tables, stds), out)
