"""neighbour_z, the z score of residuals correlated at neighbouring inputs (xsq.training.residuals), against plain
loops, its spread for independent noise, and what it tells apart."""

import math

import numpy as np
import pytest

from xsq.training import residuals
from xsq.training.residuals import neighbour_z


def by_loops(X, R):
    """neighbour_z by plain loops: each distinct row once, in the order given; inputs standardised column by
    column; each row's nearest other row, the one given first among equals; each pair of rows once; the sum of
    the products of their centred residuals over the residuals' mean square times sqrt(pairs); the largest
    over outputs."""
    X, R = np.asarray(X, float).reshape(len(X), -1), np.asarray(R, float).reshape(len(R), -1)
    seen, keep = set(), []
    for i, row in enumerate(zip(X.tolist(), R.tolist())):
        if str(row) not in seen:
            seen.add(str(row))
            keep.append(i)
    X, R = X[keep], R[keep]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    pairs = set()
    for i in range(len(X)):
        j = min((j for j in range(len(X)) if j != i), key=lambda j: (float(np.sum((X[i] - X[j]) ** 2)), j))
        pairs.add((min(i, j), max(i, j)))
    zs = []
    for k in range(R.shape[1]):
        e = R[:, k] - R[:, k].mean()
        zs.append(sum(e[i] * e[j] for i, j in pairs) / (sum(e * e) / len(e)) / math.sqrt(len(pairs)))
    return max(zs)


def test_against_plain_loops():
    rng = np.random.default_rng(0)
    X, R = rng.uniform(size=(60, 3)), rng.normal(size=(60, 2))
    assert neighbour_z(X, R) == pytest.approx(by_loops(X, R), rel=1e-12)
    x = rng.uniform(size=(40, 1))
    X2 = np.vstack([x, x[:5]])  # duplicated rows: each one's nearest is its twin
    R2 = rng.normal(size=(45, 1))
    assert neighbour_z(X2, R2) == pytest.approx(by_loops(X2, R2), rel=1e-12)


def test_more_rows_than_it_looks_at_are_taken_evenly_spaced_in_the_order_of_their_inputs(monkeypatch):
    rng = np.random.default_rng(1)
    x, noise = rng.uniform(size=(300, 1)), rng.normal(size=(300, 1))
    monkeypatch.setattr(residuals, "MOST_ROWS", 25)
    order = np.argsort(x[:, 0])
    rows = order[np.unique(np.linspace(0, 299, 25).astype(int))]
    assert neighbour_z(x, noise) == pytest.approx(by_loops(x[rows], noise[rows]), rel=1e-12)


def test_repeated_measurements_at_the_same_inputs_give_about_a_standard_normal():
    """Whichever of several rows at one input comes first, the residuals do not choose it: over 200 draws of
    100 inputs measured 4 times each, the mean is near 0 (choosing the lowest residual first gave about -3.6)."""
    rng = np.random.default_rng(5)
    x = np.repeat(np.linspace(0.0, 6.0, 100), 4)
    zs = [neighbour_z(x, rng.normal(size=400)) for _ in range(200)]
    assert abs(np.mean(zs)) < 0.3 and 0.8 < np.std(zs) < 1.2


def test_neither_an_offset_nor_units_nor_a_row_given_twice_change_it():
    rng = np.random.default_rng(4)
    t = rng.uniform(0.0, 6.0, 200)
    r = np.sin(t) + 0.3 * rng.normal(size=200)
    z = neighbour_z(t, r)  # one input and one output may come as vectors
    for x in (t + 1e9, t * 1e-200, t * 1e200, -t * 1e-310):
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # nothing overflows on the way
            assert neighbour_z(x, r) == pytest.approx(z, rel=1e-9)
    assert neighbour_z(np.r_[t, t], np.r_[r, r]) == pytest.approx(z, rel=1e-12)  # rows pasted twice
    X = rng.uniform(size=(200, 2))
    R = np.sin(6 * X[:, 0]) + 0.3 * rng.normal(size=200)
    assert neighbour_z(X * [1.0, 1e6], R) == pytest.approx(neighbour_z(X, R), rel=1e-9)  # each column its own units
    for scale in (1e-200, 1e200):  # nor the residuals' units
        assert neighbour_z(t, r * scale) == pytest.approx(z, rel=1e-9)
    repeated = neighbour_z(np.r_[t, t], rng.normal(size=400))  # two independent measurements at each input
    assert abs(repeated) < 4


@pytest.mark.parametrize("n_in", [1, 3])
def test_independent_noise_gives_about_a_standard_normal(n_in):
    """Over 400 draws of 300 rows the mean is near 0 and the spread near 1 (counting a pair of mutual nearest
    neighbours twice would make it about 1.3)."""
    rng = np.random.default_rng(2)
    zs = [neighbour_z(rng.uniform(size=(300, n_in)), rng.normal(size=(300, 1))) for _ in range(400)]
    assert abs(np.mean(zs)) < 0.2 and 0.85 < np.std(zs) < 1.15


def test_a_feature_left_in_the_residuals_gives_a_large_z_and_the_largest_output_counts():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 6.0, 300)
    noise = rng.normal(size=300)
    assert neighbour_z(x[:, None], (np.sin(3 * x) + 0.3 * noise)[:, None]) > 10
    both = np.stack([noise, np.sin(3 * x) + 0.3 * noise], axis=1)
    assert neighbour_z(x[:, None], both) == pytest.approx(neighbour_z(x[:, None], both[:, 1:]), rel=1e-12)


def test_too_few_rows_or_numbers_that_are_not_finite_give_nan():
    x, r = np.arange(5.0)[:, None], np.array([1.0, -1.0, 2.0, 0.5, -0.3])[:, None]
    assert math.isnan(neighbour_z(np.zeros(0), np.zeros(0)))
    assert math.isnan(neighbour_z(x[:2], r[:2]))
    assert math.isnan(neighbour_z(x, np.where(np.arange(5) == 2, np.nan, r[:, 0])[:, None]))
    assert math.isnan(neighbour_z(np.where(np.arange(5) == 1, np.inf, x[:, 0])[:, None], r))
    assert neighbour_z(x, np.zeros((5, 1))) == 0.0  # residuals all alike: nothing correlates
