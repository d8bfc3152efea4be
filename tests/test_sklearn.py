"""XsqRegressor passes scikit-learn's own estimator checks and works inside its tools.

scikit-learn is imported inside the tests (it takes seconds to import), so that a test process that
runs none of them does not pay for it while collecting.
"""

import numpy as np
import pytest

import xsq


def test_scikit_learns_estimator_checks():
    from sklearn.utils.estimator_checks import check_estimator

    from xsq.sklearn import XsqRegressor

    results = check_estimator(XsqRegressor(epochs=15, restarts=0), on_fail=None, on_skip=None)
    assert len(results) >= 40 and {r["status"] for r in results} <= {"passed", "failed"}
    failed = [f"{r['check_name']}: {r['exception']!r}" for r in results if r["status"] == "failed"]
    assert not failed, "\n".join(failed)


def test_fitted_attributes_and_the_same_numbers_as_fit():
    from xsq.sklearn import XsqRegressor

    x = np.linspace(1, 10, 200)
    reg = XsqRegressor(epochs=80, restarts=0, random_state=3, regularization="none").fit(x[:, None], x**2)
    model = xsq.fit(x, x**2, epochs=80, restarts=0, seed=3)
    assert np.array_equal(reg.predict(x[:5, None]), model.predict(x[:5])[:, 0])
    assert reg.n_iter_ == 80 and len(reg.loss_curve_) == len(reg.validation_scores_) == 81
    assert reg.best_loss_ == model.record.best_loss and reg.n_features_in_ == 1 and reg.score(x[:, None], x**2) > 0.99


def test_a_run_that_did_not_learn_warns_and_one_that_diverged_raises():
    from sklearn.exceptions import ConvergenceWarning

    from xsq.sklearn import XsqRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)  # noise: nothing to learn
    with pytest.warns(ConvergenceWarning, match="training did not learn"):
        XsqRegressor(epochs=30, restarts=0, regularization="none").fit(X, y)
    x = np.linspace(1, 100, 100)
    with pytest.raises(xsq.TrainingDiverged):
        XsqRegressor(activation="relu", output="identity", optimizer="sgd", lr=1e6, epochs=20).fit(x[:, None], x**2)


def test_bayes_is_the_default_and_gives_error_bars():
    from xsq.sklearn import XsqRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = X[:, 0] ** 2 + np.sin(2 * X[:, 1]) + 0.1 * rng.normal(size=120)
    reg = XsqRegressor(hidden=4, restarts=1, epochs=200).fit(X, y)
    mean, std = reg.predict(X[:5], return_std=True)
    assert mean.shape == std.shape == (5,) and np.array_equal(mean, reg.predict(X[:5]))
    assert 0.05 < reg.noise_level_[0] < 0.2 and 0 < reg.gamma_ < 17 and np.all(std >= reg.noise_level_[0])
    assert reg.model_.record.val_rows.size == 0  # every row trained on
    named = set(__import__("re").findall(r"``(\w+_)``", XsqRegressor.__doc__))  # what the docstring says fit sets
    assert len(named) == 8 and all(hasattr(reg, name) for name in named), named


def test_a_refit_without_the_evidence_drops_the_earlier_fits_gamma_and_noise_level():
    from xsq.sklearn import XsqRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(60, 1))
    y = np.sin(X[:, 0]) + 0.05 * rng.normal(size=60)
    reg = XsqRegressor(hidden=4, epochs=40, restarts=0).fit(X, y)
    assert reg.gamma_ > 0 and reg.noise_level_.shape == (1,)
    reg.set_params(regularization="none").fit(X, y)
    assert reg.model_.record.evidence is None
    assert not hasattr(reg, "gamma_") and not hasattr(reg, "noise_level_")
