"""The question's 1-1-1 network, as it computes it: plain step code, no xsq machinery.

It trains ``softplus(W2 sigmoid(W1 x + b1) + b2)`` on one random integer x in
[1, 100] per step, target x^2, with a hand-written update and learning rate
1e-4, weights from a standard normal and biases set to 1 (with 2-D bias
shapes), and gets NaN. :func:`step` is one step of that rule; ``watch`` sees
every intermediate value in order, which is how :func:`run` names the first
operation that stops being finite. ``fns`` swaps the formulas as written
(``NAIVE``) for xsq's stable ones (``STABLE``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import autograd.numpy as anp
import numpy as np

from ..core.activations import sigmoid, sigmoid_deriv, softplus
from ..core.params import Params
from .formulas import naive_sigmoid, naive_sigmoid_grad, naive_softplus, naive_softplus_grad

LR = 1e-4
STEPS = 10_000
LOW, HIGH = 1, 100


class Formulas(NamedTuple):
    """The activations a step uses, and the exponentials inside them (watched on their own)."""

    sigmoid_exp: Callable
    sigmoid: Callable
    sigmoid_grad: Callable
    softplus_exp: Callable
    softplus: Callable
    softplus_grad: Callable


NAIVE = Formulas(lambda z: np.exp(-z), naive_sigmoid, naive_sigmoid_grad, np.exp, naive_softplus, naive_softplus_grad)
STABLE = Formulas(
    lambda z: np.exp(-np.abs(z)),
    sigmoid.fun,
    sigmoid_deriv,
    lambda z: np.exp(-np.abs(z)),
    softplus.fun,
    sigmoid.fun,
)


def fit_init(sizes: tuple[int, ...], rng: np.random.Generator) -> Params:
    """The question's initialisation for a network of any sizes: weights from a standard normal, biases 1."""
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"], params[f"b{i}"] = rng.standard_normal((a, b)), np.ones(b)
    return params


def init(rng: np.random.Generator) -> Params:
    """Weights from a standard normal, biases set to 1, with the question's 2-D bias shapes."""
    return {
        "W1": rng.standard_normal((1, 1)),
        "b1": np.ones((1, 1)),
        "W2": rng.standard_normal((1, 1)),
        "b2": np.ones((1, 1)),
    }


def _ignore(name: str, value):
    return value


def step(params: Params, X, Y, lr: float = LR, fns: Formulas = NAIVE, watch: Callable = _ignore):
    """One step of the question's rule: (new params, loss, the rule's gradient terms before lr).

    ``watch(name, value)`` is called with each intermediate, in order of computation.
    """
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = watch("Z1 = X W1 + b1", X @ W1 + b1)
    watch("exp(-Z1) in the sigmoid", fns.sigmoid_exp(Z1))
    A1 = watch("A1 = sigmoid(Z1)", fns.sigmoid(Z1))
    Z2 = watch("Z2 = A1 W2 + b2", A1 @ W2 + b2)
    watch("exp(Z2) in the softplus", fns.softplus_exp(Z2))
    A2 = watch("A2 = softplus(Z2)", fns.softplus(Z2))
    loss = watch("loss = (A2 - Y)^2 / 2", 0.5 * np.sum((A2 - Y) ** 2))
    dA2 = watch("dA2 = (A2 - Y) softplus_grad(Z2)", (A2 - Y) * watch("softplus_grad(Z2)", fns.softplus_grad(Z2)))
    dA1 = watch("dA1 = dA2 W2^T sigmoid_grad(Z1)", (dA2 @ W2.T) * watch("sigmoid_grad(Z1)", fns.sigmoid_grad(Z1)))
    terms = {"W1": X.T @ dA1, "b1": dA1, "W2": A1.T @ dA2, "b2": dA2}  # the biases' terms are not summed
    new = {k: watch(f"{k} update", params[k] - lr * terms[k]) for k in ("W1", "b1", "W2", "b2")}
    return new, float(loss), terms


class Run(NamedTuple):
    """How a run of the question's SGD ended: the first non-finite step and operation (None if it stayed finite)."""

    first_nonfinite_step: int | None
    first_nonfinite_op: str | None
    losses: list
    params: Params


def run(steps: int, seed: int, lr: float = LR, scale=None, check: bool = True, fns: Formulas = NAIVE) -> Run:
    """The question's SGD: one random integer x in [1, 100] per step. ``scale``: an :class:`xsq.Scaler` or None."""
    rng = np.random.default_rng(seed)
    params = init(rng)
    xs = rng.integers(LOW, HIGH + 1, size=steps).astype(float)
    losses = []
    first: list[str] = []

    def watch(name, value):  # (the array's own .all(): np.all's dispatch costs more than these 1x1 arrays' test)
        if not first and not np.isfinite(value).all():
            first.append(name)
        return value

    with np.errstate(all="ignore"):
        for i, x in enumerate(xs):
            X, Y = np.array([[x]]), np.array([[x * x]])
            if scale is not None:
                X, Y = scale.inputs(X), scale.targets(Y)
            params, loss, _ = step(params, X, Y, lr, fns, watch if check else _ignore)
            losses.append(loss)
            if first or not np.isfinite(loss):
                return Run(i, first[0] if first else "loss = (A2 - Y)^2 / 2", losses, params)
    return Run(None, None, losses, params)


def predict(params: Params, X, fns: Formulas = NAIVE):
    """The network's output (n, 1) at inputs X (n, 1): :func:`step`'s forward pass, unwatched."""
    return fns.softplus(fns.sigmoid(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"])


def loss(params: Params, X, Y):
    """The question's loss, sum((prediction - target)^2) / 2, with its formulas as written (differentiable)."""
    return 0.5 * anp.sum((predict(params, X) - Y) ** 2)
