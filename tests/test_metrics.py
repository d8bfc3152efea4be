"""Metrics on stub models whose errors are known exactly."""

import numpy as np
import pytest

from xsq.data.metrics import evaluate, max_rel_error, rmse, rmse_over_range
from xsq.data.problem import Problem
from xsq.training.record import History, TrainingRecord


def test_formulas():
    y = np.array([1.0, 2.0, 4.0, 5.0])
    p = y + np.array([0.1, -0.2, 0.2, 0.0])
    assert rmse(p, y) == pytest.approx(np.sqrt((0.01 + 0.04 + 0.04) / 4), rel=1e-15)
    assert rmse_over_range(p, y) == pytest.approx(rmse(p, y) / 4, rel=1e-15)
    assert rmse_over_range(p[:2], y[:2], of=np.array([[0.0, 3.0], [10.0, -2.0]])) == pytest.approx(
        rmse(p[:2], y[:2]) / 12, rel=1e-15
    )  # the range of all the targets the sample came from
    assert np.isnan(rmse_over_range(p[:0], y[:0], of=y))  # no rows held out
    assert max_rel_error(p, y) == pytest.approx(0.1, rel=1e-14)
    assert max_rel_error(np.array([1.0, 3.0]), np.array([0.0, 2.0])) == pytest.approx(0.5)  # y = 0 is skipped
    assert np.isnan(max_rel_error(np.ones(2), np.zeros(2))) and np.isnan(rmse_over_range(np.ones(2), np.ones(2)))


class Stub:
    """Predicts x^2 * (1 + rel) and slope 2x * (1 + slope_rel): errors known in closed form."""

    def __init__(self, rel, slope_rel, val_rows=()):
        self.rel, self.slope_rel = rel, slope_rel
        self.record = TrainingRecord(
            History.of([]), 0, 0.0, 0, False, False, False, 0.0, 0.0, 0.0, np.array(val_rows, dtype=int)
        )

    def predict(self, x):
        return (np.asarray(x) ** 2 * (1 + self.rel))[:, None]

    def derivative(self, x):
        return (2 * np.asarray(x) * (1 + self.slope_rel))[:, None, None]


def test_evaluate_on_a_stub_with_known_errors():
    problem = Problem()
    m = evaluate(Stub(1e-3, -2e-4), problem)
    grid = np.linspace(1, 100, 2001)
    assert m["test_rmse"] == pytest.approx(1e-3 * np.sqrt(np.mean(grid**4)), rel=1e-12)
    assert m["test_rmse_over_range"] == pytest.approx(m["test_rmse"] / (100**2 - 1), rel=1e-12)
    assert m["test_max_rel_error"] == pytest.approx(1e-3, rel=1e-9)
    assert m["test_derivative_max_rel_error"] == pytest.approx(2e-4, rel=1e-9)
    assert m["extrapolation_below"] == [0.5, 1.0] and m["extrapolation_above"] == [100.0, 150.0]
    assert m["extrapolation_max_rel_error"] == pytest.approx(1e-3, rel=1e-9)


def test_train_and_validation_rmse_use_their_own_rows():
    x = np.array([1.0, 2.0, 3.0, 4.0])

    class Rows(Stub):  # exact on the training rows (0, 2), off by 1 on the held-out rows (1, 3)
        def predict(self, x):
            return (np.asarray(x) ** 2 + np.isin(np.asarray(x), [2.0, 4.0]))[:, None]

    m = evaluate(Rows(0, 0, val_rows=[1, 3]), Problem(), x)
    assert m["train_rmse"] == 0.0 and m["val_rmse"] == pytest.approx(1.0)
    m = evaluate(Rows(0, 0, val_rows=[]), Problem(), x)
    assert m["train_rmse"] == pytest.approx(np.sqrt(0.5)) and np.isnan(m["val_rmse"])


def test_evaluate_data_gives_each_outputs_test_rmse_in_column_order():
    from types import SimpleNamespace

    from xsq.data.metrics import evaluate_data

    X = np.arange(6.0)[:, None]
    Y = np.zeros((6, 2))
    model = SimpleNamespace(  # off by 1 in the first output and by 3 in the second, on every row
        predict=lambda X: np.column_stack([np.ones(len(X)), np.full(len(X), 3.0)]),
        record=SimpleNamespace(val_rows=np.array([0])),
    )
    m = evaluate_data(model, X, Y, train_rows=np.arange(4), test_rows=np.array([4, 5]))
    assert m["test_rmse_per_output"] == [1.0, 3.0] and m["test_rmse"] == pytest.approx(np.sqrt(5.0))
