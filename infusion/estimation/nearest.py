"""Nearest training images: which one is closest to each query (Fig 3.5), and how far
(the memorisation check of the sampling-steps question).

Squared Euclidean distances ||a||^2 - 2 a.b + ||b||^2 are computed in float64, ``block``
queries against ``block`` training rows at a time, so memory stays at [block x block] and no
[n x N x d] (nor [n x N]) array is ever formed.
"""

from __future__ import annotations

import numpy as np


def nearest(queries: np.ndarray, train: np.ndarray, block: int = 4096):
    """For each query row, the index of the nearest training row (ties: the lowest index)
    and its squared distance: int64 [n] and float64 [n], clamped at 0 (rounding can make a
    copy's distance slightly negative).

    ``queries`` [n x d] and ``train`` [N x d] floats.
    """
    if len(train) == 0:
        raise ValueError("nearest training images: the training set is empty")
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    queries = np.asarray(queries, dtype=np.float64)
    index = np.zeros(len(queries), dtype=np.int64)
    best = np.full(len(queries), np.inf)
    for first in range(0, len(queries), block):
        rows = slice(first, first + block)
        index[rows], best[rows] = _nearest_block(queries[rows], train, block)
    return index, np.maximum(best, 0.0)


def _nearest_block(queries: np.ndarray, train: np.ndarray, block: int):
    """:func:`nearest` of a few float64 queries, ``block`` training rows at a time."""
    query_norms = np.einsum("nd,nd->n", queries, queries)
    best = np.full(len(queries), np.inf)
    index = np.zeros(len(queries), dtype=np.int64)
    every = np.arange(len(queries))
    for start in range(0, len(train), block):
        chunk = np.asarray(train[start : start + block], dtype=np.float64)
        distances = (
            query_norms[:, None] - 2 * queries @ chunk.T + np.einsum("nd,nd->n", chunk, chunk)
        )  # [queries x block]
        closest = distances.argmin(axis=1)
        closer = distances[every, closest] < best
        best[closer] = distances[closer, closest[closer]]
        index[closer] = start + closest[closer]
    return index, best


def nearest_training_images(
    queries: np.ndarray, train: np.ndarray, block: int = 4096
) -> np.ndarray:
    """Index of the nearest training row (Euclidean) for each query: [n] int64 (Fig 3.5)."""
    return nearest(queries, train, block)[0]


def nearest_distances(queries: np.ndarray, train: np.ndarray, block: int = 4096) -> np.ndarray:
    """Euclidean distance of each query row to its nearest training row: float64 [n]."""
    return np.sqrt(nearest(queries, train, block)[1])
