"""Max or average? Boureau, Ponce and LeCun (ICML 2010) on pooling binary features.

A binary feature is present with probability ``α`` at each of ``P`` positions of a pool,
independently. Average pooling outputs the share of positions where it is present,
``Binomial(P, α) / P``: mean ``α``, variance ``α(1 − α) / P``. Max pooling outputs 1 when it is
present anywhere, a Bernoulli variable with mean ``m = 1 − (1 − α)^P`` and variance ``m(1 − m)``.

Two classes, with ``α₁`` and ``α₂``, are told apart better when their pooled features' means lie
far apart and their spreads are small. :func:`separability` measures this as
``ψ = |μ₁ − μ₂| / (σ₁ + σ₂)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pooling_core.errors import PoolingError


def _check(alpha: float, pool: int) -> None:
    if not (isinstance(alpha, (int, float, np.integer, np.floating)) and 0 <= alpha <= 1):
        raise PoolingError("theory.alpha_out_of_range", value=repr(alpha))
    if isinstance(pool, (bool, np.bool_)) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise PoolingError("theory.pool_size_below_one", value=repr(pool))


@dataclass(frozen=True)
class Distribution:
    """A pooled feature's exact distribution: ``probabilities[k]`` of ``values[k]``, its mean and
    standard deviation."""

    values: np.ndarray
    probabilities: np.ndarray
    mean: float
    std: float


def average_pooling(alpha: float, pool: int) -> Distribution:
    """``Binomial(P, α) / P``: values ``k / P`` with ``C(P, k) α^k (1 − α)^(P − k)``; mean ``α``,
    standard deviation ``sqrt(α(1 − α) / P)``. Example: ``average_pooling(0.5, 2).probabilities``
    is ``[0.25, 0.5, 0.25]`` (to rounding) over ``[0, 0.5, 1]``."""
    _check(alpha, pool)
    k = np.arange(pool + 1)
    if alpha in (0, 1):  # every position agrees: all absent or all present
        probabilities = (k == pool * alpha).astype(np.float64)
    else:  # in logarithms, so that C(P, k) stays finite for any P
        log_comb = math.lgamma(pool + 1) - np.array([math.lgamma(i + 1) + math.lgamma(pool - i + 1) for i in k])
        probabilities = np.exp(log_comb + k * math.log(alpha) + (pool - k) * math.log1p(-alpha))
    return Distribution(k / pool, probabilities, float(alpha), math.sqrt(alpha * (1 - alpha) / pool))


def max_pooling(alpha: float, pool: int) -> Distribution:
    """Bernoulli with mean ``m = 1 − (1 − α)^P``: values ``[0, 1]`` with ``[1 − m, m]``, standard
    deviation ``sqrt(m(1 − m))``. Example: ``max_pooling(0.5, 2).mean == 0.75``."""
    _check(alpha, pool)
    mean = 1 - (1 - alpha) ** pool
    return Distribution(np.array([0.0, 1.0]), np.array([1 - mean, mean]), mean, math.sqrt(mean * (1 - mean)))


def separability(first: Distribution, second: Distribution) -> float:
    """``ψ = |μ₁ − μ₂| / (σ₁ + σ₂)``: how many summed standard deviations apart the two means are;
    ``inf`` when both are certain and differ, 0 when the means agree."""
    gap = abs(first.mean - second.mean)
    spread = first.std + second.std
    if gap == 0:
        return 0.0
    return math.inf if spread == 0 else gap / spread


def separability_by_pool_size(alpha1: float, alpha2: float, sizes) -> tuple[np.ndarray, np.ndarray]:
    """``ψ`` of average and of max pooling for each pool size in ``sizes``: two arrays."""
    average = [separability(average_pooling(alpha1, int(p)), average_pooling(alpha2, int(p))) for p in sizes]
    maximum = [separability(max_pooling(alpha1, int(p)), max_pooling(alpha2, int(p))) for p in sizes]
    return np.array(average), np.array(maximum)


def simulate(alpha: float, pool: int, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``draws`` seeded pools of ``P`` positions: the average- and the max-pooled feature of each.

    The number of positions where the feature is present is drawn as ``Binomial(P, α)`` (the sum
    of the ``P`` independent presences), so a million positions cost no more than one.
    """
    _check(alpha, pool)
    if isinstance(draws, (bool, np.bool_)) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise PoolingError("theory.draws_below_one", value=repr(draws))
    present = np.random.default_rng(seed).binomial(pool, alpha, size=draws)
    return present / pool, (present > 0).astype(np.float64)


def frequencies(samples: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The share of ``samples`` equal to each of ``values`` (to rounding), e.g. for a histogram."""
    return np.array([np.isclose(samples, v, rtol=0, atol=1e-12).mean() for v in values])
