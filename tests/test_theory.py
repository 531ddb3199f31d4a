"""Boureau et al. (2010): pooled binary features, exact against brute force and closed forms."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pooling_core import PoolingError
from pooling_core.theory import (
    average_pooling,
    frequencies,
    max_pooling,
    separability,
    separability_by_pool_size,
    simulate,
)
from tests.strategies import examples

ALPHAS = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0, 1))


def brute_force(alpha, pool, reduce):
    """Every one of the 2^P presence patterns with its probability: {pooled value: probability}."""
    law = {}
    for pattern in itertools.product((0, 1), repeat=pool):
        probability = math.prod(alpha if v else 1 - alpha for v in pattern)
        value = reduce(pattern)
        law[value] = law.get(value, 0.0) + probability
    return law


@examples(60)
@given(alpha=ALPHAS, pool=st.integers(1, 9))
def test_exact_distributions_against_every_presence_pattern(alpha, pool):
    for distribution, reduce in ((average_pooling(alpha, pool), lambda v: sum(v) / pool),
                                 (max_pooling(alpha, pool), max)):
        law = brute_force(alpha, pool, reduce)
        expected = np.array([law.get(v, 0.0) for v in distribution.values])
        np.testing.assert_allclose(distribution.probabilities, expected, rtol=1e-9, atol=1e-12)
        mean = sum(v * p for v, p in law.items())
        variance = sum(v * v * p for v, p in law.items()) - mean**2
        assert distribution.mean == pytest.approx(mean, abs=1e-12)
        assert distribution.std == pytest.approx(math.sqrt(max(variance, 0.0)), abs=1e-6)


def test_closed_forms():
    np.testing.assert_allclose(average_pooling(0.5, 2).probabilities, [0.25, 0.5, 0.25])
    assert max_pooling(0.5, 2).mean == 0.75 and max_pooling(0.1, 16).mean == pytest.approx(1 - 0.9**16)
    large = average_pooling(0.3, 5000)  # C(5000, k) overflows a float: the logarithms keep it finite
    assert large.probabilities.sum() == pytest.approx(1.0)
    assert (large.probabilities * large.values).sum() == pytest.approx(0.3)
    assert large.std == pytest.approx(math.sqrt(0.3 * 0.7 / 5000))


def test_separability_examples():
    # P = 1: both poolings are the feature itself, Bernoulli(0.5) against Bernoulli(0.25).
    expected = 0.25 / (0.5 + math.sqrt(0.25 * 0.75))
    assert separability(average_pooling(0.5, 1), average_pooling(0.25, 1)) == pytest.approx(expected)
    assert separability(max_pooling(0.5, 1), max_pooling(0.25, 1)) == pytest.approx(expected)
    assert separability(max_pooling(1.0, 4), max_pooling(0.0, 4)) == math.inf
    assert separability(average_pooling(0.2, 4), average_pooling(0.2, 4)) == 0.0


@examples(30)
@given(alpha1=st.floats(0.01, 0.99), alpha2=st.floats(0.01, 0.99), pool=st.integers(1, 64))
def test_average_separability_grows_like_the_root_of_the_pool_size(alpha1, alpha2, pool):
    average, maximum = separability_by_pool_size(alpha1, alpha2, [pool])
    root = math.sqrt(alpha1 * (1 - alpha1)) + math.sqrt(alpha2 * (1 - alpha2))
    assert average[0] == pytest.approx(abs(alpha1 - alpha2) * math.sqrt(pool) / root)
    m1, m2 = 1 - (1 - alpha1) ** pool, 1 - (1 - alpha2) ** pool
    spread = math.sqrt(m1 * (1 - m1)) + math.sqrt(m2 * (1 - m2))
    expected = 0.0 if m1 == m2 else abs(m1 - m2) / spread if spread else math.inf
    assert maximum[0] == pytest.approx(expected)


def test_max_wins_for_a_sparse_feature_at_moderate_pool_sizes_and_loses_at_large_ones():
    average, maximum = separability_by_pool_size(0.1, 0.005, [16, 64])
    assert maximum[0] > average[0] and maximum[1] < average[1]
    average, maximum = separability_by_pool_size(0.4, 0.2, range(2, 257))
    assert (average > maximum).all()  # dense features: average pooling wins at every P above 1


def test_simulation_is_seeded_and_matches_the_exact_distributions():
    average_samples, max_samples = simulate(0.1, 16, 50_000, seed=3)
    again = simulate(0.1, 16, 50_000, seed=3)
    np.testing.assert_array_equal(average_samples, again[0])
    assert not np.array_equal(average_samples, simulate(0.1, 16, 50_000, seed=4)[0])
    np.testing.assert_array_equal(max_samples, average_samples > 0)
    for distribution, samples in ((average_pooling(0.1, 16), average_samples), (max_pooling(0.1, 16), max_samples)):
        shares = frequencies(samples, distribution.values)
        p = distribution.probabilities
        assert (np.abs(shares - p) <= 5 * np.sqrt(p * (1 - p) / 50_000) + 1e-9).all()
        assert abs(samples.mean() - distribution.mean) <= 5 * distribution.std / math.sqrt(50_000)


@pytest.mark.parametrize("call, message", [
    (lambda: average_pooling(1.5, 4), "α must be between 0 and 1, not 1.5"),
    (lambda: max_pooling(float("nan"), 4), "α must be between 0 and 1, not nan"),
    (lambda: average_pooling(0.5, 0), "pool size P must be a whole number of at least 1, not 0"),
    (lambda: max_pooling(0.5, 2.5), "not 2.5"),
    (lambda: simulate(0.5, 4, 0, 0), "number of draws must be a whole number of at least 1, not 0"),
])
def test_bad_arguments_get_a_message(call, message):
    with pytest.raises(PoolingError, match=message):
        call()
