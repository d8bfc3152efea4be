"""Each gradient optimizer, a few steps on a quadratic, against its published update written out by hand."""

import math

import numpy as np
import pytest

from xsq.training.optimizers import adam, momentum, sgd

A = {"W1": np.array([[1.0, 3.0]]), "b1": np.array([0.5, 2.0])}  # f(p) = sum(a p^2) / 2, so grad = a p
START = {"W1": np.array([[1.0, -2.0]]), "b1": np.array([0.3, 0.7])}


def run(opt, steps=4):
    params, state, path = START, opt.init(START), []
    for step in range(steps):
        grads = {k: A[k] * params[k] for k in params}
        params, state = opt.update(step, params, grads, state)
        path.append(params)
    return path


def by_hand(rule, steps=4):
    """The same steps, one scalar at a time, from the formulas."""
    out = {k: np.zeros((steps, *v.shape)) for k, v in START.items()}
    for k in START:
        for idx in np.ndindex(START[k].shape):
            p, a, mem = float(START[k][idx]), float(A[k][idx]), {}
            for t in range(steps):
                p = rule(p, a * p, t, mem)
                out[k][(t, *idx)] = p
    return out


def same(path, ref):
    return all(np.allclose(path[t][k], ref[k][t], rtol=1e-14, atol=0) for t in range(len(path)) for k in ref)


def test_sgd():
    assert same(run(sgd(0.1)), by_hand(lambda p, g, t, m: p - 0.1 * g))


def test_momentum_is_heavy_ball():
    def rule(p, g, t, m):  # v_t = mass v_{t-1} + g_t; p_t = p_{t-1} - lr v_t
        m["v"] = 0.9 * m.get("v", 0.0) + g
        return p - 0.1 * m["v"]

    assert same(run(momentum(0.1, 0.9)), by_hand(rule))
    assert not same(run(momentum(0.1, 0.9)), by_hand(lambda p, g, t, m: p - 0.1 * g))


@pytest.mark.parametrize("lr", [0.1, 0.003])
def test_adam_follows_kingma_and_ba_algorithm_1(lr):
    b1, b2, eps = 0.9, 0.999, 1e-8

    def rule(p, g, t, mem):
        m = b1 * mem.get("m", 0.0) + (1 - b1) * g
        v = b2 * mem.get("v", 0.0) + (1 - b2) * g * g
        mem.update(m=m, v=v)
        m_hat, v_hat = m / (1 - b1 ** (t + 1)), v / (1 - b2 ** (t + 1))
        return p - lr * m_hat / (math.sqrt(v_hat) + eps)

    assert same(run(adam(lr)), by_hand(rule))
    # the bias correction matters: the first step moves every coordinate by about lr
    first = run(adam(lr), 1)[0]
    assert np.allclose(np.abs(first["W1"] - START["W1"]), lr, rtol=1e-6)


def test_updates_are_pure():
    for opt in (sgd(0.1), momentum(0.1), adam(0.1)):
        state = opt.init(START)
        before = {k: v.copy() for k, v in START.items()}
        opt.update(0, START, {k: np.ones_like(v) for k, v in START.items()}, state)
        assert all(np.array_equal(START[k], before[k]) for k in START)
