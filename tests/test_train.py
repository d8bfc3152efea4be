"""Training: accuracy, the record, reproducibility, failures reported as failures, and bad settings."""

import dataclasses

import numpy as np
import pytest

import xsq
from xsq import memory
from xsq.data.metrics import evaluate
from xsq.data.problem import Problem
from xsq.training.loop import EpochInfo

from .conftest import max_rel


def test_default_lm_learns_x_squared(default_model):
    m = evaluate(default_model, Problem())
    assert m["test_rmse_over_range"] <= 1e-8 and m["test_max_rel_error"] <= 1e-3
    r = default_model.record
    assert r.best_loss < 1e-14 and r.n_epochs == 1300 and not r.interrupted
    assert len(r.history.epoch) == r.n_epochs + 1 and list(r.history.epoch) == list(range(r.n_epochs + 1))
    phases = list(r.history.phase)
    # screening: 5 candidates x 30 steps, then the best 2 x 30 more; warm-up: 40% of the 1090 steps left
    assert phases[:211] == ["screen"] * 211 and phases[211:647] == ["warmup"] * 436 and phases[-1] == "running"
    assert r.start_loss == r.history.train_loss[0] and r.baseline_loss > 0.4
    assert r.settings["optimizer"] == "lm" and r.settings["epochs"] == 1300 and r.settings["restarts"] == 4
    assert len(r.val_rows) == 150 and r.domain == ((float(default_model_x_min()), float(default_model_x_max())),)


def default_model_x_min():
    return np.random.default_rng(0).uniform(1, 100, 1000).min()


def default_model_x_max():
    return np.random.default_rng(0).uniform(1, 100, 1000).max()


def test_slope_agrees_with_its_hand_written_twin(default_model):
    x = np.linspace(0.5, 150, 301)
    d = default_model.derivative(x)
    assert d.shape == (301, 1, 1)
    assert max_rel(d, default_model.manual_derivative(x)) <= 1e-12
    inside = (x >= 2) & (x <= 99)
    assert np.allclose(d[inside, 0, 0], 2 * x[inside], rtol=1e-4)


def test_the_model_is_frozen(default_model):
    x = np.linspace(1, 10, 20)
    for model in (default_model, xsq.fit(x, x**2, hidden=2, epochs=10, restarts=0)):  # loaded, and trained
        check_frozen(model)


def check_frozen(model):
    """A fitted model (trained here or loaded from a file) cannot be changed, not even through its arrays."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.params = {}
    with pytest.raises(ValueError, match="read-only"):
        model.params["W1"][0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        model.scaler.y_scale[0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        model.record.val_rows[0] = 1
    with pytest.raises(TypeError, match="cannot be changed"):
        model.record.settings["epochs"] = 1
    assert np.array_equal(model.predict(np.array([2.0, 3.0])), model.predict([[2.0], [3.0]]))


def test_same_seed_same_bits(x2_data):
    x, y = x2_data
    a, b, c = (xsq.fit(x[:100], y[:100], epochs=20, restarts=1, seed=s) for s in (3, 3, 4))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not all(np.array_equal(a.params[k], c.params[k]) for k in a.params)
    a, b = (xsq.fit(x[:300], y[:300], optimizer="adam", epochs=5, batch_size=50, seed=3) for _ in range(2))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_restarts_count_against_the_epoch_budget(x2_data):
    x, y = x2_data
    model = xsq.fit(x, y, epochs=60, restarts=2)
    h = model.record.history
    assert model.record.n_epochs == 60 and list(h.phase).count("screen") == 1 + 3 * 10  # 3 candidates, 10 steps


def test_adam_learns(x2_data):
    x, y = x2_data
    model = xsq.fit(x[:100], y[:100], optimizer="adam", lr=0.05, epochs=800, grad="manual", patience=800)
    h = model.record.history
    assert h.train_loss[model.record.best_epoch] < 1e-3 * h.train_loss[0]


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_gradient_optimizers_give_the_same_run_with_either_gradient(x2_data, optimizer):
    x, y = x2_data[0][:200], x2_data[1][:200]
    runs = [xsq.fit(x, y, optimizer=optimizer, epochs=20, batch_size=50, grad=g) for g in ("autograd", "manual")]
    for model in runs:
        assert model.record.history.train_loss[-1] < 0.5 * model.record.history.train_loss[0]
    assert all(np.allclose(runs[0].params[k], runs[1].params[k], rtol=1e-6, atol=1e-9) for k in runs[0].params)


def test_relative_mse_bounds_the_relative_error(x2_data):
    x, y = x2_data
    # a network small enough that its error shows: fitting squared errors leaves the small targets' relative
    # error ~100 times larger than fitting relative ones
    relative, plain = (
        evaluate(xsq.fit(x, y, loss=loss, hidden=8, epochs=200, restarts=0), Problem())["test_max_rel_error"]
        for loss in ("relative_mse", "mse")
    )
    assert relative < 1e-3 and plain > 10 * relative


def test_early_stopping_restores_the_best(x2_data):
    x, y = x2_data
    model = xsq.fit(x, y, optimizer="adam", lr=0.05, epochs=300, patience=20)
    r = model.record
    assert r.best_loss == np.min(r.history.val_loss) and r.history.val_loss[r.best_epoch] == r.best_loss
    assert r.best_epoch < r.n_epochs  # it went on past the best, and came back to it
    s = model.scaler
    Xv, Yv = s.inputs(x[r.val_rows][:, None]), s.targets(y[r.val_rows][:, None])
    assert xsq.objective(model.params, Xv, Yv) == pytest.approx(r.best_loss, rel=1e-12)


def test_callback_sees_every_epoch_and_can_stop(x2_data):
    x, y = x2_data
    seen = []
    model = xsq.fit(x, y, epochs=50, callback=lambda info: seen.append(info) or info["epoch"] == 7)
    assert [s["epoch"] for s in seen] == list(range(8)) and model.record.n_epochs == 7 and model.record.stopped
    assert set(seen[0]) == set(EpochInfo.__annotations__) - {"stage", "network"}  # staged or wider fits add them


def test_ctrl_c_returns_the_best_so_far(x2_data):
    x, y = x2_data

    def interrupt(info):
        if info["epoch"] == 30:
            raise KeyboardInterrupt

    model = xsq.fit(x, y, callback=interrupt)
    assert model.record.interrupted and model.record.n_epochs == 30
    with pytest.raises(KeyboardInterrupt):  # before any epoch: there is nothing to return
        xsq.fit(x, y, callback=lambda info: (_ for _ in ()).throw(KeyboardInterrupt) if info["epoch"] == 0 else None)


def test_multi_output_with_per_column_scales():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, size=(200, 2))
    Y = np.stack([1.0 + X[:, 0] ** 2, 1000.0 * (3.0 + X[:, 1])], axis=1)  # column scales differ 1000-fold
    model = xsq.fit(X, Y, hidden=(8,), epochs=200)
    assert model.sizes == (2, 8, 2) and model.scaler.y_scale[1] / model.scaler.y_scale[0] > 500
    assert np.allclose(model.predict(X), Y, rtol=1e-3)
    assert model.derivative(X[:3]).shape == (3, 2, 2)
    assert np.allclose(model.derivative(X[:3])[:, 1, 1], 1000.0, rtol=1e-2)


# --- failures are reported as failures -------------------------------------------


def test_non_finite_is_a_divergence():
    x = np.linspace(1, 100, 200)
    with pytest.raises(xsq.TrainingDiverged, match=r"diverged at epoch \d+.*start .*worst.*lower"):
        xsq.fit(x, x**2, activation="relu", output="identity", optimizer="sgd", lr=1e6, epochs=50)


def test_a_blow_up_that_stays_flat_is_a_divergence(x2_data):
    x, y = x2_data
    with pytest.raises(xsq.TrainingDiverged, match=r"rose to .* times its start at epoch 1 and never came back") as e:
        xsq.fit(x, y, optimizer="sgd", lr=1e6, epochs=20)
    r = e.value.record
    assert r.history.train_loss[1] > 1e6 * r.start_loss


def test_the_questions_own_configuration_is_a_failure(x2_data):
    # raw data, one hidden unit, per-sample SGD at lr 1e-4 (with xsq's stable formulas: no NaN, no learning)
    x, y = x2_data
    with pytest.raises(xsq.TrainingFailed, match="did not learn|diverged"):
        xsq.fit(
            x[:100], y[:100], hidden=1, scale=False, optimizer="sgd", lr=1e-4, batch_size=1, epochs=5, grad="manual"
        )


def test_no_improvement_on_the_start_is_a_failure(x2_data):
    x, y = x2_data
    with pytest.raises(xsq.TrainingStalled, match=r"did not learn.*not below half of") as e:
        xsq.fit(x, y, optimizer="sgd", lr=1e-12, epochs=5)
    assert e.value.record.n_epochs == 5


# --- bad settings and data ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(hidden=(0,)), "hidden must be one or more whole numbers >= 1"),
        (dict(hidden=(16.5,)), "hidden must be"),
        (dict(lr=0.0, optimizer="adam"), "lr must be a finite number > 0"),
        (dict(epochs=0), "epochs must be a whole number >= 1"),
        (dict(val_fraction=1.0), r"val_fraction must be a finite number >= 0 and < 1"),
        (dict(optimizer="rmsprop"), "optimizer must be one of: lm, sgd, momentum, adam"),
        (dict(loss="mae"), "optimizer 'lm' needs a least-squares loss"),
        (dict(grad="numeric", optimizer="adam"), "grad must be one of: autograd, manual"),
        (dict(batch_size=0, optimizer="adam"), "batch_size must be"),
        (dict(patience=0), "patience must be"),
        (dict(lr=0.1), "lr applies only to optimizer sgd, momentum, adam, not 'lm'"),
        (dict(restarts=2, optimizer="adam"), "restarts applies only to optimizer lm, not 'adam'"),
        (dict(seed=-1), "seed must be a whole number >= 0"),
    ],
)
def test_bad_settings(kwargs, message):
    x = np.linspace(1, 100, 20)
    with pytest.raises(xsq.InputError, match=message):
        xsq.fit(x, x**2, **kwargs)


def test_hidden_as_an_int(x2_data):
    x, y = x2_data
    assert xsq.fit(x, y, hidden=4, epochs=20, restarts=0).sizes == (1, 4, 1)


@pytest.mark.parametrize(
    "X,Y,message",
    [
        (np.ones((5, 2, 2)), np.ones(5), r"X must be 1-D \(N,\) or 2-D \(N, n\), got 3-D"),
        (np.array([1.0, np.nan, 3.0]), np.ones(3), "X contains NaN or inf"),
        (np.ones(3), np.array([1.0, 2.0, np.inf]), "Y contains NaN or inf"),
        (np.array([1 + 1j, 2, 3]), np.ones(3), "X must be an array of real numbers; it holds complex"),
        (np.ones(3), np.ones(4), "X has 3 rows but Y has 4"),
        (np.ones(1), np.ones(1), "need at least 2 samples"),
    ],
)
def test_bad_data(X, Y, message):
    with pytest.raises(xsq.InputError, match=message):
        xsq.fit(X, Y)


def test_the_output_follows_the_targets():
    x = np.linspace(-3, 3, 200)
    with pytest.raises(xsq.InputError, match="softplus output can only produce values > 0.*--output identity"):
        xsq.fit(x, np.sin(x), output="softplus")
    model = xsq.fit(x, np.sin(x), epochs=100, restarts=0)
    assert model.output == "identity" and "some targets are <= 0" in model.record.settings["output_reason"]
    assert model.scaler.y_shift[0] == pytest.approx(np.mean(np.sin(x)), abs=1e-15)
    assert np.allclose(model.predict(x)[:, 0], np.sin(x), atol=1e-3)
    model = xsq.fit(x, np.exp(x), epochs=20, restarts=0)  # a span of 400: softplus
    assert model.output == "softplus" and model.record.settings["output_reason"] == "every target is > 0"
    assert model.scaler.y_shift[0] == 0.0
    model = xsq.fit(x, 2 + np.sin(x), epochs=20, restarts=0)  # within a factor of 3, but 170 rows: too few to
    assert model.output == "softplus"  # train an identity output by variable projection
    x = np.linspace(-3, 3, 1000)
    model = xsq.fit(x, 2 + np.sin(x), epochs=20, restarts=0)  # 850 training rows: enough
    assert (
        model.output == "identity" and "within a factor of 3 (less than 100)" in model.record.settings["output_reason"]
    )
    model = xsq.fit(x, 1 + 1e-9 * x, epochs=20, restarts=0)
    assert model.output == "identity" and "within 6e-07 % of each other" in model.record.settings["output_reason"]
    model = xsq.fit(x, np.exp(x), epochs=20, regularization="bayes")  # measured data: identity, centred
    assert model.output == "identity" and "regularization is bayes" in model.record.settings["output_reason"]
    assert model.scaler.y_shift[0] == pytest.approx(np.mean(np.exp(x)))


def test_integer_data_is_converted():
    x = np.arange(1, 41)
    model = xsq.fit(x, x**2, epochs=30, restarts=0)
    assert model.predict(np.array([3])).dtype == np.float64


def test_runs_that_will_not_fit_in_memory_are_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    x = np.linspace(1, 100, 1000)
    shown = r"this run \(850 samples, sizes 1-3000-1, lm\) needs about .* GiB of memory, more than 80% of the 1 GiB"
    with pytest.raises(xsq.InputError, match=shown + " available.*adam"):  # 850: the training rows
        xsq.fit(x, x**2, hidden=3000)


def test_a_warm_up_that_has_converged_ends_early():
    from xsq.training.record import WARMUP

    model = xsq.fit([1.0, 2.0, 3.0], [1.0, 4.0, 9.0], restarts=0, val_fraction=0, output="softplus")  # fitted exactly
    warm = int(np.sum(model.record.history.phase == WARMUP))
    assert 0 < warm < 50 and model.record.converged  # not 40% of the 1300-step budget


def test_a_stall_says_its_model_was_chosen_on_validation():
    rng = np.random.default_rng(0)
    x = rng.uniform(1, 2, 40)
    with pytest.raises(
        xsq.TrainingStalled,
        match=r"the training loss of the epoch it kept \(.* at epoch \d+, the best on the validation rows\)",
    ):
        xsq.fit(x, rng.uniform(1, 2, 40), hidden=4, epochs=60, restarts=0)  # noise: nothing generalises


def test_every_output_unit_reaches_what_it_should():
    from xsq.core.activations import ACTIVATIONS

    for a in ACTIVATIONS.values():  # each produces what it says, and no less: an open end is not reached for
        low, high, low_in, high_in = a.produces  # |z| <= 10, and far out every finite end is (in float64)
        near, far = a.fn(np.linspace(-10, 10, 201)), a.fn(np.array([-1e4, 1e4]))
        assert np.all(near >= low if low_in else near > low) and np.all(near <= high if high_in else near < high)
        assert (np.min(near) == low) == low_in and (np.max(near) == high) == high_in, a.name
        assert far[0] == low if np.isfinite(low) else far[0] < -1e3, a.name
        assert far[1] == high if np.isfinite(high) else far[1] > 1e3, a.name
    x = np.linspace(-2, 2, 60)
    y = 5 * x**3 - 3  # beyond (0, 1) and (-1, 1), and of both signs
    for output in ("sigmoid", "tanh"):  # scaled onto the middle of their range: any targets
        model = xsq.fit(x, y, output=output, hidden=8, epochs=200, restarts=0)
        Ys = model.scaler.targets(y[:, None])
        assert model.output == output and np.isclose(Ys.min(), {"sigmoid": 0.1, "tanh": -0.8}[output])  # 10 % in
        assert np.max(np.abs(model.predict(x)[:, 0] - y)) < 1e-3 * np.ptp(y)
    with pytest.raises(xsq.InputError, match=r"a sigmoid output can only produce values in \(0, 1\), but the largest"):
        xsq.fit(x, np.abs(y), output="sigmoid", scale=False)
    with pytest.raises(
        xsq.InputError, match=r"a relu output can only produce values >= 0, but the smallest target is -43"
    ):
        xsq.fit(x, y, output="relu")
    x = np.linspace(-2, 2, 120)
    y = np.maximum(5 * x**3 - 3, 0)  # 0 reachable
    assert xsq.fit(x, y, output="relu", hidden=8, epochs=50, restarts=0).output == "relu"


def test_a_model_shows_what_it_is_not_every_weight():
    x = np.linspace(1, 12, 30)  # a span of 144: softplus
    shown = "Model(sizes=(1, 3, 1), activation='sigmoid', output='softplus'"
    assert repr(xsq.fit(x, x**2, hidden=3, epochs=20, restarts=0)) == shown + ")"
    assert repr(xsq.fit(x, x**2, hidden=3, epochs=60, restarts=0, stages=2)) == shown + ", 1 later stage)"
    bayes = xsq.fit(x, x**2, hidden=3, epochs=30, regularization="bayes")  # measured data: identity
    assert repr(bayes) == shown.replace("softplus", "identity") + ", error bars)"
