"""Training: accuracy on the default problem, reproducibility, divergence, save/load, interrupts."""

import json
import os
import pickle

import numpy as np
import pytest

import xsq
from xsq.report import evaluate
from xsq.train import TrainingDiverged, fit


@pytest.fixture(scope="module")
def data():
    x = np.random.default_rng(0).uniform(1, 100, 1000)
    return x, x**2


@pytest.fixture(scope="module")
def default_model(data):
    x, y = data
    return fit(x, y)


def test_default_lm_learns_x_squared(default_model):
    m = evaluate(default_model, 1.0, 100.0)
    assert m["test_rmse_over_range"] <= 1e-7
    assert default_model.best_loss < 1e-14
    h = default_model.history
    assert len(h["epoch"]) == len(h["train_loss"]) == len(h["val_loss"]) == default_model.n_epochs + 1
    assert h["train_loss"][-1] < h["train_loss"][0] * 1e-3


def test_a_warm_up_minimum_does_not_end_the_run_early(data):
    # the relative-error warm-up can pass a lower validation mse than the mse steps reach at first;
    # patience must judge the mse run on its own, not against that transient
    x, y = data
    model = fit(x, y, epochs=1500)
    assert model.n_epochs == 1500 and model.best_epoch > 0.4 * 1500


def test_adam_reaches_1e_3(data):
    x, y = data
    model = fit(x, y, optimizer="adam", lr=0.01, epochs=10000, grad="manual", patience=10000)
    assert evaluate(model, 1.0, 100.0)["test_rmse_over_range"] <= 1e-3


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_gradient_optimizers_lower_the_loss_with_either_gradient(data, optimizer):
    x, y = data
    runs = [fit(x, y, optimizer=optimizer, epochs=30, batch_size=64, grad=g) for g in ("autograd", "manual")]
    for model in runs:
        assert model.history["train_loss"][-1] < 0.5 * model.history["train_loss"][0]
    # both gradients are the same numbers up to rounding, so the runs agree closely
    for key in runs[0].params:
        assert np.allclose(runs[0].params[key], runs[1].params[key], rtol=1e-6, atol=1e-9)


def test_sgd_batch_size_one_as_in_the_question(data):
    x, y = data
    model = fit(x[:200], y[:200], optimizer="sgd", lr=0.01, epochs=5, batch_size=1)
    assert np.isfinite(model.best_loss)


def test_relative_mse_lm_bounds_the_relative_error(data):
    x, y = data
    model = fit(x, y, loss="relative_mse", epochs=300)
    assert evaluate(model, 1.0, 100.0)["test_max_rel_error"] < 1e-3


def test_divergence_is_reported():
    x = np.linspace(1, 100, 200)
    with pytest.raises(TrainingDiverged, match=r"diverged at epoch \d+.*last finite loss.*lower learning rate"):
        fit(x, x**2, activation="relu", output="identity", optimizer="sgd", lr=1e6, epochs=50)


def test_same_seed_same_bits(data):
    x, y = data
    a = fit(x, y, epochs=20, seed=3)
    b = fit(x, y, epochs=20, seed=3)
    c = fit(x, y, epochs=20, seed=4)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not all(np.array_equal(a.params[k], c.params[k]) for k in a.params)
    a = fit(x, y, optimizer="adam", epochs=5, batch_size=100, seed=3)
    b = fit(x, y, optimizer="adam", epochs=5, batch_size=100, seed=3)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_early_stopping_restores_the_best(data):
    x, y = data
    model = fit(x, y, optimizer="adam", lr=0.05, epochs=300, patience=20)
    vals = model.history["val_loss"]
    assert model.best_loss == min(vals)
    assert model.n_epochs - model.best_epoch <= 20 or model.n_epochs == 300
    val = model.val_index
    Xv, Yv = ((x[val] - model.x_mean) / model.x_std)[:, None], (y[val] / model.y_scale)[:, None]
    assert np.isclose(xsq.objective(model.params, Xv, Yv), model.best_loss, rtol=1e-12)


def test_callback_sees_every_epoch_and_can_stop(data):
    x, y = data
    seen = []
    model = fit(x, y, epochs=50, callback=lambda info: seen.append(info) or info["epoch"] == 7)
    assert [s["epoch"] for s in seen] == list(range(8))
    assert model.n_epochs == 7
    assert {"epoch", "train_loss", "val_loss", "best_loss", "elapsed"} <= set(seen[0])


def test_save_load_round_trip_is_exact(default_model, tmp_path):
    path = tmp_path / "m.npz"
    default_model.save(path)
    loaded = xsq.load_model(path)
    assert all(np.array_equal(loaded.params[k], default_model.params[k]) for k in default_model.params)
    xs = np.linspace(0.5, 150, 101)[:, None]
    assert np.array_equal(loaded.predict(xs), default_model.predict(xs))
    assert not [f for f in os.listdir(tmp_path) if f != "m.npz"]  # no temporary left behind


def test_bad_model_files(default_model, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        xsq.load_model(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="not a valid .npz"):
        xsq.load_model(tmp_path / "junk.npz")
    with open(tmp_path / "pickled.npz", "wb") as f:
        pickle.dump({"W1": np.ones(3)}, f)
    with pytest.raises(ValueError, match="pickle"):
        xsq.load_model(tmp_path / "pickled.npz")
    np.savez(tmp_path / "objects.npz", W1=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        xsq.load_model(tmp_path / "objects.npz")
    params = dict(default_model.params, W2=np.ones((3, 1)))
    np.savez(tmp_path / "mismatch.npz", **params, x_mean=np.zeros(1), x_std=np.ones(1), y_scale=np.ones(1),
             settings=np.array(json.dumps({"format": "xsq-model-1"})))
    with pytest.raises(ValueError, match="not a valid xsq model"):
        xsq.load_model(tmp_path / "mismatch.npz")
    default_model.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as data:
        arrays = dict(data)
    arrays["W1"] = np.full_like(arrays["W1"], np.nan)
    np.savez(tmp_path / "nan.npz", **arrays)
    with pytest.raises(ValueError, match="NaN or inf"):
        xsq.load_model(tmp_path / "nan.npz")


@pytest.mark.parametrize("kwargs,message", [
    (dict(hidden=(0,)), "hidden layer sizes must be whole numbers >= 1"),
    (dict(lr=0.0, optimizer="adam"), "learning rate must be a finite number > 0"),
    (dict(epochs=0), "epochs must be a whole number >= 1"),
    (dict(val_fraction=1.0), r"val fraction must be in \[0, 1\)"),
    (dict(optimizer="rmsprop"), "unknown optimizer 'rmsprop'"),
    (dict(loss="mae"), "optimizer 'lm' needs a least-squares loss"),
    (dict(grad="numeric", optimizer="adam"), "unknown grad 'numeric'"),
    (dict(batch_size=0, optimizer="adam"), "batch size must be"),
    (dict(patience=0), "patience must be"),
])
def test_fit_bad_settings(kwargs, message):
    x = np.linspace(1, 100, 20)
    with pytest.raises(ValueError, match=message):
        fit(x, x**2, **kwargs)


def test_fit_bad_data():
    with pytest.raises(ValueError, match="X contains NaN"):
        fit(np.array([1.0, np.nan, 3.0]), np.ones(3))
    with pytest.raises(ValueError, match="relative_mse needs every target > 0"):
        fit(np.linspace(-1, 1, 11), np.linspace(-1, 1, 11) ** 2, loss="relative_mse")
    with pytest.raises(ValueError, match="need at least 2 samples"):
        fit(np.ones(1), np.ones(1))
