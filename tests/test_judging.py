"""The one judging rule (infusion.paper.judging) against verdicts worked out by hand: a
difference decided beyond stds x the noises in quadrature either way, undecided inside or
where a trained model's number has one seed, the equivalence's two one-sided tests, and
the combinations of cases a claim is made of."""

from __future__ import annotations

import math

import pytest

from infusion.paper import judging as J

NAN = math.nan


def seeds(centre, std, n=2, error=NAN):
    return J.Measured(centre, seeds=n, seed_std=std, error=error)


def test_a_trained_number_has_a_known_noise_only_with_two_or_more_seeds():
    assert seeds(1.0, 3.0, error=4.0).noise == 5.0  # hypot(3, 4)
    assert math.isnan(J.Measured(1.0, seeds=1, error=4.0).noise)  # its error alone is not enough
    assert J.published(1.0, 4.0).noise == 4.0  # no training: the error alone
    assert J.published(1.0).noise == 0.0
    # from a table's seed columns: the seed mean with two seeds, the first's with one
    assert J.measured(2, 10.0, 12.0, 1.0).centre == 10.0
    one = J.measured(1, 10.0, 12.0, 1.0)
    assert one.centre == 12.0 and math.isnan(one.seed_std) and math.isnan(one.noise)
    assert J.measured(None, NAN, 12.0).seeds == 1
    assert seeds(0, 1.0, 3).source == "seed std over 3 seeds"
    assert seeds(0, 1.0, error=1.0).source == "seed std over 2 seeds and estimate error"
    assert J.published(0, 1.0).source == "estimate error"


@pytest.mark.parametrize(
    ("a", "b", "stds", "expected"),
    [
        (10.0, 0.0, 2, J.UNDECIDED),  # 2 x hypot(3, 4) = 10: the boundary is inside
        (10.5, 0.0, 2, J.HOLDS),
        (-10.5, 0.0, 2, J.FAILS),
        (9.0, 0.0, 2, J.UNDECIDED),
        (-9.0, 0.0, 2, J.UNDECIDED),
        (6.0, 0.0, 1, J.HOLDS),  # 6 > 5
    ],
)
def test_exceeds_is_decided_beyond_the_noise_either_way(a, b, stds, expected):
    assert J.exceeds(seeds(a, 3.0), seeds(b, 4.0), stds) == expected


def test_exceeds_with_a_margin_and_unknown_or_missing_numbers():
    assert J.exceeds(seeds(20.0, 0.1), seeds(0.0, 0.1), 2, margin=15.0) == J.HOLDS
    assert J.exceeds(seeds(20.0, 0.1), seeds(0.0, 0.1), 2, margin=25.0) == J.FAILS
    one_seed = J.Measured(100.0)
    assert J.exceeds(one_seed, seeds(0.0, 0.1), 2) == J.UNDECIDED
    assert J.exceeds(J.Measured(NAN), seeds(0.0, 0.1), 2) == J.NOT_RUN


def test_equivalence_is_two_one_sided_tests_never_an_absence_of_difference():
    # noise 2 x hypot(3, 4) = 10
    assert J.equivalent(seeds(5.0, 3.0), seeds(0.0, 4.0), margin=16.0, stds=2) == J.HOLDS
    assert J.equivalent(seeds(5.0, 3.0), seeds(0.0, 4.0), margin=14.0, stds=2) == J.UNDECIDED
    assert J.equivalent(seeds(-30.0, 3.0), seeds(0.0, 4.0), margin=14.0, stds=2) == J.FAILS
    assert J.equivalent(seeds(30.0, 3.0), seeds(0.0, 4.0), margin=21.0, stds=2) == J.UNDECIDED
    # identical numbers of one seed: undecided, not similar
    assert J.equivalent(J.Measured(1.0), J.Measured(1.0), margin=100.0, stds=2) == J.UNDECIDED


def test_the_combinations_of_cases():
    H, F, U, N = J.HOLDS, J.FAILS, J.UNDECIDED, J.NOT_RUN
    assert J.every([H, H]) == H and J.every([H, U]) == U and J.every([U, F, H]) == F
    assert J.every([H, N]) == H and J.every([N]) == N and J.every([]) == N
    assert J.some([F, H]) == H and J.some([F, F]) == F and J.some([F, U]) == U
    assert J.some([]) == N
    assert J.both(H, H) == H and J.both(H, U) == U and J.both(U, F) == F and J.both(H, N) == N
