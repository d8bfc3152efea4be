"""Loss functions against plain formulas, and clear errors for bad input."""

import subprocess
import sys

import numpy as np
import pytest

import xsq
from xsq import losses


def test_losses_match_their_definitions():
    rng = np.random.default_rng(1)
    p, t = rng.normal(size=(50, 2)), rng.uniform(0.5, 2, size=(50, 2))
    r = p - t
    assert np.isclose(losses.mse(p, t), np.sum(r**2) / r.size)
    assert np.isclose(losses.mae(p, t), np.sum(np.abs(r)) / r.size)
    quad = np.abs(r) <= 0.7
    want = (np.sum(0.5 * r[quad] ** 2) + np.sum(0.7 * (np.abs(r[~quad]) - 0.35))) / r.size
    assert np.isclose(losses.huber(p, t, delta=0.7), want)
    assert np.isclose(losses.relative_mse(p, t), np.sum((r / t) ** 2) / r.size)
    assert losses.get("huber") is losses.huber
    params = xsq.init_params((1, 4, 1))
    assert np.isclose(losses.l2_penalty(params), 0.5 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)))


def test_loss_names_and_positive_targets():
    with pytest.raises(ValueError, match="unknown loss 'l3'.*mse, mae, huber, relative_mse"):
        losses.get("l3")
    with pytest.raises(ValueError, match="relative_mse needs every target > 0"):
        losses.relative_mse(np.ones((2, 1)), np.array([[1.0], [0.0]]))


GOOD = dict(params=xsq.init_params((1, 4, 1)), X=np.ones((5, 1)), Y=np.ones((5, 1)))


@pytest.mark.parametrize("change,message", [
    (dict(X=np.ones(5)), "X must be a 2-D array"),
    (dict(X=np.ones((5, 2))), "X has 2 columns but the network takes 1"),
    (dict(Y=np.ones((4, 1))), r"Y must have shape \(5, 1\)"),
    (dict(X=np.full((5, 1), np.nan)), "X contains NaN or inf"),
    (dict(Y=np.full((5, 1), np.inf)), "Y contains NaN or inf"),
    (dict(activation="swish"), "unknown activation 'swish'; expected one of: sigmoid, tanh"),
    (dict(output="exp"), "unknown output 'exp'"),
    (dict(loss="l3"), "unknown loss 'l3'"),
    (dict(loss="relative_mse", Y=-np.ones((5, 1))), "relative_mse needs every target > 0"),
    (dict(params={"W1": np.ones((1, 3)), "b1": np.ones(3), "W2": np.ones((4, 1)), "b2": np.ones(1)}),
     "params W2 has shape"),
    (dict(l2=-1.0), "l2 must be a finite number >= 0"),
])
@pytest.mark.parametrize("fn", [xsq.objective, xsq.autograd_grad, xsq.manual_grad, xsq.gradcheck])
def test_bad_input_is_named(fn, change, message):
    args = dict(GOOD, **change)
    params, X, Y = args.pop("params"), args.pop("X"), args.pop("Y")
    with pytest.raises(ValueError, match=message):
        fn(params, X, Y, **args)


@pytest.mark.parametrize("sizes", [(1,), (1, 0, 1), (1, -3, 1), ("a", 2)])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes must be at least two whole numbers >= 1"):
        xsq.init_params(sizes)


def test_unknown_init():
    with pytest.raises(ValueError, match="unknown init 'lecun'"):
        xsq.init_params((1, 2, 1), init="lecun")


@pytest.mark.parametrize("argv,message", [
    (["gradcheck", "--sizes", "1,0,1"], "every size must be >= 1"),
    (["gradcheck", "--activation", "swish"], "invalid choice: 'swish'"),
    (["gradcheck", "--n", "0"], "must be a whole number >= 1"),
    (["gradcheck", "--seed", "1.5"], "seed must be a whole number"),
    (["gradcheck", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_cli_bad_arguments_one_line_exit_2(argv, message):
    out = subprocess.run([sys.executable, "-m", "xsq", *argv], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_gradcheck_all_passes_and_json():
    import json

    out = subprocess.run([sys.executable, "-m", "xsq", "gradcheck", "--all", "--json", "--n", "16"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    results = json.loads(out.stdout)
    assert len(results) == 5 * 5 * 4 and all(r["passed"] for r in results)
    assert {"name", "shape", "autograd_rel_diff", "fd_rel_diff", "passed"} <= set(results[0]["params"][0])
