"""Network parameters: a plain dict of float64 arrays, how to make one, check one, and flatten one.

A network with layer sizes ``(n0, n1, ..., nk)`` has parameters
``{"W1", "b1", ..., "Wk", "bk"}`` with ``Wi`` of shape ``(n[i-1], n[i])`` and
``bi`` of shape ``(n[i],)``.

:func:`flatten` orders the entries W1, b1, W2, b2, ..., Wk, bk (each array in C
order): the column order of :func:`xsq.jacobian` and of Levenberg-Marquardt's
parameter vector. ``autograd.misc.flatten`` is not used because it sorts the
keys as strings (W1, W10, W2, ..., b1, ...), which would interleave layers
for k >= 10 and put every bias after every weight.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
from autograd.tracer import getval

from ..errors import InputError
from ..memory import check_fits
from ..validation import Seed, Sizes
from . import activations

# the network's parameters: {"W1": (n0, n1), "b1": (n1,), ..., "Wk", "bk"}, defined here once
Params = dict[str, np.ndarray]

INITS = ("auto", "glorot", "he")


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Layer sizes as ints: at least two whole numbers, each >= 1 (16.0 is 16; 16.7 is refused)."""
    out = Sizes(min_len=2).ok(sizes)
    if out is None:
        raise InputError(f"sizes must be at least two whole numbers >= 1 (input, ..., output), got {sizes!r}")
    return out


def init_params(
    sizes: Sequence[int] = (1, 16, 1),
    *,
    seed: int | np.random.Generator = 0,
    init: str = "auto",
    activation: str = "sigmoid",
) -> Params:
    """Random weights and zero biases for a network of the given layer sizes.

    ``init="glorot"`` draws W uniformly from +-sqrt(6 / (fan_in + fan_out))
    (right for sigmoid, tanh, softplus); ``"he"`` draws W from a normal of
    variance 2 / fan_in (right for relu); ``"auto"`` draws what the activation's
    entry in ``ACTIVATIONS`` names (its ``init``).
    All randomness comes from ``numpy.random.default_rng(seed)``.
    """
    sizes = check_sizes(sizes)
    shown = "-".join(map(str, sizes))
    check_fits(2 * count(sizes) * 8, f"the parameters of a {shown} network", "use fewer or smaller layers")
    if not isinstance(init, str) or init not in INITS:
        raise InputError(f"unknown init {init!r}; expected one of: {', '.join(INITS)}")
    if init == "auto":
        if not isinstance(activation, str):
            raise InputError(f"activation must be a name such as 'sigmoid', not {type(activation).__name__}")
        init = activations.get(activation).init
    rng = np.random.default_rng(Seed().check(seed, "seed"))
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        if init == "he":
            W = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
        else:
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-limit, limit, size=(fan_in, fan_out))
        params[f"W{i}"] = W
        params[f"b{i}"] = np.zeros(fan_out)
    return params


def n_layers(params: Params) -> int:
    """Number of weight layers k in ``{"W1", "b1", ..., "Wk", "bk"}``."""
    return len(params) // 2


def param_keys(params: Params) -> list[str]:
    """The documented flattening order: W1, b1, W2, b2, ..., Wk, bk."""
    if not isinstance(params, Mapping):
        raise InputError(f"params must be a dict of arrays {{'W1', 'b1', ...}}, not {type(params).__name__}")
    return [f"{p}{i}" for i in range(1, n_layers(params) + 1) for p in "Wb"]


def layer_sizes(params: Params) -> tuple[int, ...]:
    """The sizes ``(n0, ..., nk)`` that (checked) ``params`` were made for."""
    k = n_layers(params)
    return (np.shape(params["W1"])[0],) + tuple(np.shape(params[f"W{i}"])[1] for i in range(1, k + 1))


def as_real_array(value, name: str):
    """A float64 array of ``value`` (integers converted); an autograd-traced value passes through untouched."""
    raw = getval(value)
    try:
        array = np.asarray(raw)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "biuf":
        kind = "complex numbers" if array is not None and array.dtype.kind == "c" else "not real numbers"
        raise InputError(f"{name} must be an array of real numbers; it holds {kind}")
    if raw is not value:
        return value
    return array if array.dtype == np.float64 else array.astype(float)


def check_params(params: Mapping) -> Params:
    """Check keys, shapes and values of a params dict; return it with every array as float64.

    Keys must be exactly W1, b1, ..., Wk, bk (k >= 1), shapes must chain
    (``Wi`` (n[i-1], n[i]), ``bi`` (n[i],), every n >= 1), and every value
    must be finite. Traced (autograd) arrays are checked on their values and
    passed through unchanged, so the result can still be differentiated.
    """
    keys = list(getval(params)) if isinstance(getval(params), Mapping) else None  # a traced dict, too
    if keys is None:
        raise InputError(f"params must be a dict of arrays, got {type(params).__name__}")
    layers = [int(m.group(1)) for key in keys if (m := re.fullmatch(r"[Wb]([1-9]\d*)", str(key)))]
    k = max(layers, default=0)
    expected = [f"{p}{i}" for i in range(1, k + 1) for p in "Wb"]
    if k < 1 or set(keys) != set(expected):
        missing = [key for key in expected if key not in keys] if k >= 1 else ["W1", "b1"]
        extra = sorted(str(key) for key in keys if key not in expected)
        raise InputError(
            "params must have keys W1, b1, ..., Wk, bk"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    out, prev = {}, None
    for i in range(1, k + 1):
        W = as_real_array(params[f"W{i}"], f"params W{i}")
        b = as_real_array(params[f"b{i}"], f"params b{i}")
        ws, bs = np.shape(W), np.shape(b)
        if len(ws) != 2 or bs != (ws[1],) or min(ws) < 1 or (prev is not None and ws[0] != prev):
            raise InputError(
                f"params W{i} has shape {ws} and b{i} {bs}; expected W{i} of shape (n{i - 1}, n{i}) matching "
                f"the previous layer and b{i} of shape (n{i},), every n >= 1"
            )
        for name, value in ((f"W{i}", W), (f"b{i}", b)):
            if not np.all(np.isfinite(getval(value))):
                raise InputError(f"params {name} holds NaN or inf; every parameter must be finite")
        out[f"W{i}"], out[f"b{i}"] = W, b
        prev = ws[1]
    return {key: out[key] for key in keys}


def flatten(params: Params) -> np.ndarray:
    """All parameters as one vector, in :func:`param_keys` order, each array in C order."""
    params = check_params(params)
    return np.concatenate([np.ravel(params[key]) for key in param_keys(params)])


def unflatten_unchecked(vector: np.ndarray, like: Params) -> Params:
    """:func:`unflatten` without checks (the training loop's inner call)."""
    out, start = {}, 0
    for key in param_keys(like):
        shape = np.shape(like[key])
        size = math.prod(shape)
        out[key] = vector[start : start + size].reshape(shape)
        start += size
    return out


def count(sizes: Sequence[int]) -> int:
    """How many numbers a network of layer ``sizes`` holds (each layer's weights and biases)."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def n_params(like: Params) -> int:
    """How many numbers a params dict holds."""
    return sum(math.prod(np.shape(v)) for v in like.values())


def unflatten(vector: np.ndarray, like: Params) -> Params:
    """The inverse of :func:`flatten`: a params dict shaped like ``like``."""
    like = check_params(like)
    vector = as_real_array(vector, "vector")
    want = n_params(like)
    if np.ndim(vector) != 1 or np.shape(vector)[0] != want:
        raise InputError(f"vector must be 1-D with {want} entries for these params, got shape {np.shape(vector)}")
    return unflatten_unchecked(vector, like)
