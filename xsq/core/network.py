"""The forward pass: one loop over the layers, pure, differentiable, optionally keeping its intermediates.

Hidden layers use ``activation``; the last layer uses ``output``. Nothing
here holds state: params in, arrays out. :func:`predict` is the checked public
entry; :func:`_forward` is the loop itself, which the objective, autograd, the
hand-written backprop, the Jacobian and gradcheck all run.
"""

from __future__ import annotations

from typing import NamedTuple

import autograd.numpy as np
import numpy as onp
from autograd.tracer import getval
from numpy.typing import ArrayLike

from ..errors import InputError
from ..lab.formulas import FORMULAS
from . import activations
from .params import Params, as_real_array, check_params, layer_sizes, n_layers

Array = onp.ndarray


class Passes(NamedTuple):
    """What a forward pass keeps for backprop: per layer i, ``Zs[i]``, ``As[i]`` and ``Ds[i] = act'(Zs[i])``.

    ``As[0]`` is the input X; ``Zs[0]`` and ``Ds[0]`` are None, so that index i
    always means layer i. ``As[-1]`` is the network's output.
    """

    Zs: list
    As: list
    Ds: list


def affine(A: Array, W: Array, b: Array) -> Array:
    """A @ W + b; with one input per sample, the single matmul [A, 1] @ [W; b] instead.

    numpy is slow at broadcasting over narrow rows: for a (N, 1) input the
    product A * W plus the bias costs about twice the one small matmul.
    Written with ``autograd.numpy`` so that autograd differentiates it too.
    """
    if onp.shape(W)[0] == 1:
        return np.concatenate([A, np.ones((np.shape(A)[0], 1))], axis=1) @ np.concatenate([W, b[None, :]], axis=0)
    return A @ W + b


def _forward(params: Params, X: Array, activation: str, output: str, keep: bool = False):
    """The network's output (N, nk) for inputs X (N, n0), unchecked; with ``keep``, the :class:`Passes`.

    Without ``keep`` every operation is autograd-differentiable (any order,
    both modes); with it, each slope comes from the same exp as its value
    (plain numpy, for the hand-written passes).
    """
    k = n_layers(params)
    A, Zs, As, Ds = X, [None], [X], [None]
    for i in range(1, k + 1):
        Z = affine(A, params[f"W{i}"], params[f"b{i}"])
        act = FORMULAS[activation if i < k else output]
        if keep:
            A, D = act.value_and_deriv(Z)
            Zs.append(Z)
            As.append(A)
            Ds.append(D)
        else:
            A = act.fn(Z)
    return Passes(Zs, As, Ds) if keep else A


def check_inputs(X, n_inputs: int, name: str = "X"):
    """X as a float64 (N, n_inputs) array, N >= 1, finite; a 1-D X is N samples of one input.

    Traced (autograd) arrays are checked on their values and passed through
    unchanged, so predictions stay differentiable with respect to the inputs.
    """
    X = as_real_array(X, name)
    shape = onp.shape(X)
    if len(shape) == 1 and n_inputs == 1:
        X = np.reshape(X, (-1, 1))
        shape = onp.shape(X)
    if len(shape) != 2 or shape[0] < 1 or shape[1] != n_inputs:
        one_d = " (or (N,) for one input)" if n_inputs == 1 else ""
        raise InputError(f"{name} must have shape (N, {n_inputs}){one_d} with N >= 1, got shape {shape}")
    if not onp.all(onp.isfinite(getval(X))):
        raise InputError(f"{name} contains NaN or inf; every value must be finite")
    return X


def check_problem(params, X, Y=None, activation: str = "sigmoid", output: str = "softplus"):
    """Validate a network and its data: returns (params, X) or (params, X, Y) as float64 arrays.

    Y must be (N, nk) with the same N as X (a 1-D Y is N samples of one output).
    """
    activations.get(activation)
    activations.get(output, "output")
    params = check_params(params)
    sizes = layer_sizes(params)
    X = check_inputs(X, sizes[0])
    if Y is None:
        return params, X
    Y = check_inputs(Y, sizes[-1], "Y")
    if onp.shape(Y)[0] != onp.shape(X)[0]:
        raise InputError(f"Y has {onp.shape(Y)[0]} rows but X has {onp.shape(X)[0]}; give one target row per input")
    return params, X, Y


def predict(params: Params, X: ArrayLike, *, activation: str = "sigmoid", output: str = "softplus") -> Array:
    """Network outputs for inputs X: (N, n0) -> (N, nk). Pure, and differentiable in params and X."""
    params, X = check_problem(params, X, None, activation, output)
    return _forward(params, X, activation, output)
