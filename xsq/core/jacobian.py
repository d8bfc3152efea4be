"""d outputs / d parameters, by hand, for Levenberg-Marquardt; and autograd's, as its reference.

Row ``n * nk + j`` is output j of sample n; columns follow :func:`xsq.flatten` (W1 in C order,
then b1, W2, b2, ...). The hand-written pass runs the chain rule of :func:`xsq.core.net.backprop`
once per output instead of once per loss: dZ[n, j, u] is d output j of sample n / d Z_u.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import jacobian as autograd_jacobian_of

from .net import Act, Passes, forward, forward_pass
from .params import Params, flatten, unflatten_unchecked


def jacobian(params: Params, X: np.ndarray, activation: Act, output: Act, passes: Passes | None = None) -> np.ndarray:
    """The Jacobian (N * nk, P); reuses a forward pass (``passes``) of the same params and X when given."""
    passes = passes or forward_pass(params, X, activation, output)
    As, Ds = passes.As, passes.Ds
    k = len(params) // 2
    N, m = As[-1].shape
    widths = [A.shape[1] for A in As]
    ends = np.cumsum([0] + [a * b + b for a, b in zip(widths[:-1], widths[1:])])
    J = np.empty((N, m, ends[-1]))
    dZ = np.eye(m)[None, :, :] * Ds[k][:, None, :]
    for i in range(k, 0, -1):
        A_prev = As[i - 1]
        a, b = A_prev.shape[1], dZ.shape[2]
        start = ends[i - 1]
        J[:, :, start : start + a * b] = (A_prev[:, None, :, None] * dZ[:, :, None, :]).reshape(N, m, a * b)
        J[:, :, start + a * b : ends[i]] = dZ
        if i > 1:
            dZ = (dZ @ params[f"W{i}"].T) * Ds[i - 1][:, None, :]
    return J.reshape(N * m, ends[-1])


def autograd_jacobian(params: Params, X: np.ndarray, activation: Act, output: Act) -> np.ndarray:
    """The same Jacobian from ``autograd.jacobian`` of the flat map theta -> outputs."""

    def outputs(theta):
        return anp.reshape(forward(unflatten_unchecked(theta, params), X, activation, output), (-1,))

    return autograd_jacobian_of(outputs)(flatten(params))
