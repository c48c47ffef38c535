"""Nearest training images and their distances against a brute-force search (scipy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from infusion.estimation.nearest import nearest_distances, nearest_training_images

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("block", [4096, 7, 1])  # one block, and many blocks of both operands
def test_nearest_training_images_and_distances_match_brute_force(block):
    queries = RNG.normal(size=(19, 20)).astype(np.float32)
    train = RNG.normal(size=(50, 20)).astype(np.float32)
    distances = cdist(queries.astype(np.float64), train.astype(np.float64))  # [19 x 50]
    np.testing.assert_array_equal(
        nearest_training_images(queries, train, block), distances.argmin(1)
    )
    np.testing.assert_allclose(nearest_distances(queries, train, block), distances.min(1))


def test_exact_copies_are_found_at_distance_zero():
    train = RNG.uniform(0, 1, (30, 16))
    copies = train[[4, 17, 29]]
    np.testing.assert_array_equal(nearest_training_images(copies, train, block=8), [4, 17, 29])
    distances = nearest_distances(copies, train, block=8)
    assert (distances >= 0).all() and distances.max() < 1e-6


def test_ties_go_to_the_lowest_index_across_blocks():
    train = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # rows 0 and 2 the same
    assert nearest_training_images(np.array([[0.9, 0.0]]), train, block=2)[0] == 0


def test_an_empty_training_set_is_rejected():
    with pytest.raises(ValueError, match="training set is empty"):
        nearest_distances(np.zeros((2, 3)), np.zeros((0, 3)))
