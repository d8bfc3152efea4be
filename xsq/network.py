"""The network: parameters as a plain dict of arrays, and a pure forward pass.

A network with layer sizes ``(n0, n1, ..., nk)`` has parameters
``{"W1", "b1", ..., "Wk", "bk"}`` with ``Wi`` of shape ``(n[i-1], n[i])`` and
``bi`` of shape ``(n[i],)``. Hidden layers use ``activation``; the last layer
uses ``output``. Nothing here holds state: params in, arrays out.
"""

from __future__ import annotations

from collections.abc import Sequence

import autograd.numpy as np
import numpy as onp

from .activations import ACTIVATIONS, check_activation

Array = onp.ndarray
Params = dict

INITS = ("auto", "glorot", "he")


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Validate layer sizes: at least two whole numbers, each >= 1."""
    try:
        sizes = tuple(int(s) for s in sizes)
        ok = len(sizes) >= 2
    except (TypeError, ValueError):
        ok = False
    if not ok or min(sizes) < 1:
        raise ValueError(
            f"sizes must be at least two whole numbers >= 1 (input, ..., output), got {sizes!r}"
        )
    return sizes


def init_params(
    sizes: Sequence[int] = (1, 16, 1),
    *,
    seed: int | onp.random.Generator = 0,
    init: str = "auto",
    activation: str = "sigmoid",
) -> Params:
    """Random weights and zero biases for a network of the given layer sizes.

    ``init="glorot"`` draws W uniformly from +-sqrt(6 / (fan_in + fan_out))
    (right for sigmoid, tanh, softplus); ``"he"`` draws W from a normal of
    variance 2 / fan_in (right for relu); ``"auto"`` picks by ``activation``.
    All randomness comes from ``numpy.random.default_rng(seed)``.
    """
    sizes = check_sizes(sizes)
    check_activation(activation)
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of: {', '.join(INITS)}")
    if init == "auto":
        init = "he" if activation == "relu" else "glorot"
    rng = onp.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        if init == "he":
            W = rng.normal(0.0, onp.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        else:
            limit = onp.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, size=(fan_in, fan_out))
        params[f"W{i}"] = W
        params[f"b{i}"] = onp.zeros(fan_out)
    return params


def n_layers(params: Params) -> int:
    """Number of weight layers k in ``{"W1", "b1", ..., "Wk", "bk"}``."""
    return len(params) // 2


def layer_sizes(params: Params) -> tuple[int, ...]:
    """The sizes ``(n0, ..., nk)`` that ``params`` were made for."""
    k = n_layers(params)
    return (params["W1"].shape[0],) + tuple(params[f"W{i}"].shape[1] for i in range(1, k + 1))


def check_params(params: Params) -> tuple[int, ...]:
    """Check the keys and shapes of a params dict; return its layer sizes."""
    k = len(params) // 2
    expected = {f"{p}{i}" for i in range(1, k + 1) for p in "Wb"}
    if k < 1 or set(params) != expected:
        raise ValueError(
            f"params must have keys W1, b1, ..., Wk, bk; got {sorted(params)}"
        )
    prev = None
    for i in range(1, k + 1):
        W, b = onp.shape(params[f"W{i}"]), onp.shape(params[f"b{i}"])
        if len(W) != 2 or b != (W[1],) or (prev is not None and W[0] != prev):
            raise ValueError(
                f"params W{i} has shape {W} and b{i} {b}; expected W{i} of shape "
                f"(n{i - 1}, n{i}) matching the previous layer and b{i} of shape (n{i},)"
            )
        prev = W[1]
    return layer_sizes(params)


def check_data(X, Y=None, sizes: Sequence[int] | None = None):
    """Return X (and Y) as float64 arrays after checking shape and finiteness.

    X must be (N, n0) and Y (N, nk), both finite, N >= 1; a ValueError names
    what is wrong.
    """
    X = onp.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must be a 2-D array of shape (N, n_inputs) with N >= 1, got shape {X.shape}")
    if sizes is not None and X.shape[1] != sizes[0]:
        raise ValueError(f"X has {X.shape[1]} columns but the network takes {sizes[0]} inputs")
    if not onp.all(onp.isfinite(X)):
        raise ValueError("X contains NaN or inf; every input must be finite")
    if Y is None:
        return X
    Y = onp.asarray(Y, dtype=float)
    want = (X.shape[0], sizes[-1] if sizes is not None else (Y.shape[1] if Y.ndim == 2 else -1))
    if Y.shape != want:
        raise ValueError(f"Y must have shape {want} (N rows like X, one column per output), got {Y.shape}")
    if not onp.all(onp.isfinite(Y)):
        raise ValueError("Y contains NaN or inf; every target must be finite")
    return X, Y


def affine(A: Array, W: Array, b: Array) -> Array:
    """A @ W + b; with one input per sample, the single matmul [A, 1] @ [W; b] instead.

    numpy is slow at broadcasting over narrow rows: for a (N, 1) input the
    product A * W plus the bias costs about twice the one small matmul.
    Written with ``autograd.numpy`` so that autograd differentiates it too.
    """
    if W.shape[0] == 1:
        return np.concatenate([A, np.ones((A.shape[0], 1))], axis=1) @ np.concatenate([W, b[None, :]], axis=0)
    return A @ W + b


def forward(params: Params, X: Array, activation: str, output: str) -> Array:
    """The forward pass without input checks (used inside training and autograd)."""
    act, out = ACTIVATIONS[activation], ACTIVATIONS[output]
    k = n_layers(params)
    A = X
    for i in range(1, k + 1):
        Z = affine(A, params[f"W{i}"], params[f"b{i}"])
        A = act(Z) if i < k else out(Z)
    return A


def predict(params: Params, X: Array, *, activation: str = "sigmoid", output: str = "softplus") -> Array:
    """Network outputs for inputs X: (N, n0) -> (N, nk). Pure."""
    check_activation(activation)
    check_activation(output, "output")
    sizes = check_params(params)
    X = check_data(X, sizes=sizes)
    return forward(params, X, activation, output)
