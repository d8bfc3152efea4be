"""Loss functions against their formulas written out by hand, and refusing what they cannot use."""

import numpy as np
import pytest

import xsq
from xsq.core import losses


@pytest.fixture
def pair():
    rng = np.random.default_rng(1)
    return rng.normal(size=(50, 2)), rng.uniform(0.5, 2, size=(50, 2))


def test_losses_match_their_definitions(pair):
    p, t = pair
    r = (p - t).ravel()
    assert np.isclose(losses.mse(p, t), sum(v * v for v in r) / len(r), rtol=1e-14)
    assert np.isclose(losses.mae(p, t), sum(abs(v) for v in r) / len(r), rtol=1e-14)
    want = sum(0.5 * v * v if abs(v) <= 0.7 else 0.7 * (abs(v) - 0.35) for v in r) / len(r)
    assert np.isclose(losses.huber(p, t, delta=0.7), want, rtol=1e-14)
    rel = ((p - t) / t).ravel()
    assert np.isclose(losses.relative_mse(p, t), sum(v * v for v in rel) / len(rel), rtol=1e-14)
    params = xsq.init_params((1, 4, 1))
    want = 0.5 * (sum(w * w for w in params["W1"].ravel()) + sum(w * w for w in params["W2"].ravel()))
    assert np.isclose(losses.l2_penalty(params), want, rtol=1e-14)


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_hand_written_gradients_are_the_derivatives(pair, name):
    p, t = pair
    loss = losses.LOSSES[name]
    h = 1e-6
    fd = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        d = np.zeros_like(p)
        d[idx] = h
        fd[idx] = (loss.fn(p + d, t) - loss.fn(p - d, t)) / (2 * h)
    assert np.allclose(loss.grad(p, t), fd, rtol=1e-6, atol=1e-10)


def test_least_squares_weights_rewrite_the_loss(pair):
    p, t = pair
    for name, loss in losses.LOSSES.items():
        if loss.weight is not None:
            assert np.isclose(np.mean((loss.weight(t) * (p - t)) ** 2), loss.fn(p, t), rtol=1e-14), name


@pytest.mark.parametrize("name", list(losses.LOSSES))
def test_no_silent_broadcasting(name):
    fn = getattr(losses, name)
    with pytest.raises(xsq.InputError, match=r"pred has shape \(4, 1\) but target has \(4,\)"):
        fn(np.ones((4, 1)), np.ones(4))


@pytest.mark.parametrize("delta", [-1.0, 0.0, np.nan, np.inf, "1"])
def test_huber_needs_a_positive_delta(delta):
    with pytest.raises(xsq.InputError, match="huber delta must be a finite number > 0"):
        losses.huber(np.ones(3), np.ones(3), delta=delta)


def test_names_and_positive_targets():
    with pytest.raises(xsq.InputError, match="unknown loss 'l3'.*mse, mae, huber, relative_mse"):
        losses.get("l3")
    assert losses.get("huber").fn is losses._huber
    with pytest.raises(xsq.InputError, match="relative_mse needs every target > 0"):
        losses.relative_mse(np.ones((2, 1)), np.array([[1.0], [0.0]]))


def test_lists_are_arrays_and_empty_is_refused():
    assert losses.mse([1, 2], [1, 4]) == 2.0 and losses.mae((1.0, 2.0), (2.0, 2.0)) == 0.5
    with pytest.raises(xsq.InputError, match="pred and target are empty"):
        losses.mse(np.ones((0, 1)), np.ones((0, 1)))
    with pytest.raises(xsq.InputError, match=r"smallest target is -2\.0\. Use"):  # a plain number, not np.float64
        losses.relative_mse([1.0, 1.0], [1.0, -2.0])
