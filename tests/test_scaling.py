"""The scaler: per column, invertible, positive targets never shifted, huge inputs scaled without overflow."""

import numpy as np
import pytest

import xsq
from xsq.training.scaling import Scaler


def test_per_column_statistics_and_inverse():
    rng = np.random.default_rng(0)
    X = rng.normal([3.0, -1.0], [2.0, 0.5], size=(500, 2))
    Y = rng.uniform([1.0, 100.0], [2.0, 300.0], size=(500, 2))
    s = Scaler.fit(X, Y)
    assert np.allclose(s.inputs(X).mean(axis=0), 0, atol=1e-12) and np.allclose(s.inputs(X).std(axis=0), 1)
    assert np.array_equal(s.y_shift, [0.0, 0.0])
    assert np.allclose(np.sqrt(np.mean(s.targets(Y) ** 2, axis=0)), 1.0)
    assert np.all(s.targets(Y) > 0)
    assert np.allclose(s.outputs(s.targets(Y)), Y, rtol=1e-15)
    c = Scaler.fit(X, Y, centre_targets=True)
    assert np.allclose(c.targets(Y).mean(axis=0), 0, atol=1e-12) and np.allclose(c.targets(Y).std(axis=0), 1)
    slopes = np.ones((4, 2, 2))
    assert np.allclose(s.slopes(slopes)[0], s.y_scale[:, None] / s.x_std[None, :])


def test_constant_columns_and_huge_values():
    X = np.array([[5.0, 1e200], [5.0, 3e200], [5.0, 2e200]])
    s = Scaler.fit(X, X**0 * [[1.0, 1e300]])
    assert (
        s.x_std[0] > 0
        and np.all(s.inputs(X)[:, 0] == 0)
        and np.isfinite(s.x_std[1])
        and np.all(np.isfinite(s.inputs(X)))
    )
    assert np.isfinite(s.y_scale[1])
    with pytest.raises(xsq.InputError, match="cannot be scaled in float64: they are not all finite"):
        Scaler.fit(np.array([[1.0], [np.finfo(float).max]]) * [[1.0]], np.array([[np.inf], [1.0]]))


@pytest.mark.parametrize("magnitude", [1e-200, 1e200])
def test_targets_of_any_magnitude_are_learnt(magnitude):
    x = np.linspace(1, 10, 80)
    s = Scaler.fit(x[:, None], magnitude * x[:, None] ** 2)
    assert np.sqrt(np.mean(s.targets(magnitude * x[:, None] ** 2) ** 2)) == pytest.approx(1.0, rel=1e-12)
    model = xsq.fit(x, magnitude * x**2, hidden=4, epochs=200, restarts=0)
    assert np.max(np.abs(model.predict(x)[:, 0] / (magnitude * x**2) - 1)) < 1e-3
