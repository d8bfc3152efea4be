"""Hand-written forward-mode passes (plain numpy, no autograd): derivatives carried with the values.

* :func:`input_jacobian`: d outputs / d inputs, the learned function's
  slope. Tangents ``T_i = (T_{i-1} @ W_i) * act'(Z_i)`` from ``T_0 = I``.
* :func:`parameter_tangent`: for the last layer's pre-activation z, its
  directional derivative along a direction c in parameter space,
  ``z_c = D_theta z [c]``, together with d z / dx and d z_c / dx: a pass of
  hyper-dual numbers (value, c-tangent, x-tangent, mixed), layer by layer

      Z_c  = A_c W + A cW + cb          A_c  = f'(Z) Z_c
      Z_x  = A_x W                      A_x  = f'(Z) Z_x
      Z_cx = A_cx W + A_x cW            A_cx = f''(Z) Z_c Z_x + f'(Z) Z_cx

  It is the hand-written twin of the tangent stage of a staged fit
  (:class:`xsq.training.stages.TangentStage`), whose autograd form is ``make_jvp``.

Both are held against autograd in the tests.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .net import Act, forward_pass, layer_activation
from .params import Params, n_layers


def input_jacobian_unchecked(params: Params, X: np.ndarray, activation: Act, output: Act) -> np.ndarray:
    """d outputs / d inputs, shape (N, nk, n0), unchecked (:func:`xsq.input_jacobian` checks its arguments)."""
    passes = forward_pass(params, X, activation, output)
    T = np.broadcast_to(np.eye(X.shape[1]), (X.shape[0], X.shape[1], X.shape[1]))  # T[n, j, u] = d A_u / d x_j
    for i in range(1, n_layers(params) + 1):
        T = (T @ params[f"W{i}"]) * passes.Ds[i][:, None, :]
    return np.swapaxes(T, 1, 2)


class Tangent(NamedTuple):
    """The last pre-activation z (N, m), z_c (N, m), dz/dx (N, n0, m) and d z_c / dx (N, n0, m)."""

    z: np.ndarray
    z_c: np.ndarray
    z_x: np.ndarray
    z_cx: np.ndarray


def parameter_tangent(params: Params, direction: Params, X: np.ndarray, activation: Act) -> Tangent:
    """The hyper-dual pass of the module docstring, up to the last layer's pre-activation."""
    N, n0 = X.shape
    A, A_c = X, np.zeros_like(X)
    A_x = np.broadcast_to(np.eye(n0), (N, n0, n0))  # A_x[n, j, u] = d A_u / d x_j
    A_cx = np.zeros((N, n0, n0))
    k = n_layers(params)
    act = layer_activation(1, k + 1, activation, activation)
    for i in range(1, k + 1):
        W, b, cW, cb = params[f"W{i}"], params[f"b{i}"], direction[f"W{i}"], direction[f"b{i}"]
        Z, Z_c = A @ W + b, A_c @ W + A @ cW + cb
        Z_x, Z_cx = A_x @ W, A_cx @ W + A_x @ cW
        if i == k:
            return Tangent(Z, Z_c, Z_x, Z_cx)
        A, D = act.value_and_deriv(Z)
        d1, d2 = D[:, None, :], act.second(Z)[:, None, :]
        A_c, A_x, A_cx = D * Z_c, d1 * Z_x, d2 * Z_c[:, None, :] * Z_x + d1 * Z_cx
    raise AssertionError("unreachable: the loop returns at the last layer")
