"""Check hand-written gradients against autograd and central finite differences.

For each parameter array the report gives the largest absolute difference and
a norm-wise relative difference ``max|a - b| / max(max|a|, max|b|)``, and a
verdict against these tolerances:

* manual vs autograd: relative difference <= ``RTOL_AUTOGRAD`` (1e-10). Both
  evaluate the same derivatives in a different order, so only rounding
  separates them.
* manual vs central differences: absolute difference <= ``RTOL_FD`` (1e-6)
  times the largest gradient entry plus ``ATOL_FD`` (1e-8) times
  ``max(1, |objective|)``, the rounding noise of a difference quotient with
  step ``h = 1e-6 * max(1, |theta|)``.

At a kink of relu or mae the derivative does not exist and a difference
quotient that straddles it is not a derivative. When any relu pre-activation
or mae residual lies within ``KINK_BAND`` of its kink, the finite-difference
column is reported but does not decide the verdict (``fd_decides`` is false);
the autograd comparison always does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as onp

from .activations import ACTIVATIONS
from .backprop import check_problem, loss_value, loss_value_grad, manual_grad_unchecked
from .network import Params, affine, n_layers

RTOL_AUTOGRAD = 1e-10
RTOL_FD = 1e-6
ATOL_FD = 1e-8
FD_STEP = 1e-6
KINK_BAND = 1e-4


@dataclass
class ParamCheck:
    """How one parameter array's hand-written gradient compares with the references."""

    name: str
    shape: tuple
    max_abs_grad: float
    autograd_abs_diff: float
    autograd_rel_diff: float
    fd_abs_diff: float
    fd_rel_diff: float
    fd_decides: bool
    passed: bool


def _rel(a: onp.ndarray, b: onp.ndarray) -> tuple[float, float]:
    diff = float(onp.max(onp.abs(a - b))) if a.size else 0.0
    scale = max(float(onp.max(onp.abs(a))), float(onp.max(onp.abs(b)))) if a.size else 0.0
    return diff, (diff / scale if scale > 0 else 0.0)


def near_kink(params: Params, X, Y, activation: str, output: str, loss: str) -> bool:
    """True when a relu pre-activation or an mae residual is within KINK_BAND of its kink."""
    k = n_layers(params)
    A = X
    for i in range(1, k + 1):
        Z = affine(A, params[f"W{i}"], params[f"b{i}"])
        name = activation if i < k else output
        if name == "relu" and onp.any(onp.abs(Z) < KINK_BAND):
            return True
        A = ACTIVATIONS[name](Z)
    return loss == "mae" and bool(onp.any(onp.abs(A - Y) < KINK_BAND))


def finite_difference_grad(params: Params, X, Y, activation: str, output: str, loss: str,
                           l2: float, step: float = FD_STEP) -> Params:
    """Central differences (f(theta + h) - f(theta - h)) / 2h for every parameter entry."""
    grads = {}
    for key, value in params.items():
        g = onp.zeros_like(value, dtype=float)
        for idx in onp.ndindex(value.shape):
            h = step * max(1.0, abs(value[idx]))
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[key][idx] = value[idx] + h
            f_plus = loss_value(shifted, X, Y, activation, output, loss, l2)
            shifted[key][idx] = value[idx] - h
            f_minus = loss_value(shifted, X, Y, activation, output, loss, l2)
            g[idx] = (f_plus - f_minus) / (2 * h)
        grads[key] = g
    return grads


def gradcheck(params: Params, X, Y, *, activation: str = "sigmoid", output: str = "softplus",
              loss: str = "mse", l2: float = 0.0, manual=None) -> list[ParamCheck]:
    """Compare ``manual`` (default: :func:`xsq.manual_grad`) with autograd and finite differences.

    Returns one :class:`ParamCheck` per parameter array, in params order; the
    check passes when every row's ``passed`` is true. ``manual`` may be any
    function with the signature of ``manual_grad_unchecked`` (used by the
    tests to show that a wrong gradient is caught).
    """
    X, Y = check_problem(params, X, Y, activation, output, loss, l2)
    params = {k: onp.asarray(v, dtype=float) for k, v in params.items()}
    manual = manual or manual_grad_unchecked
    g_manual = manual(params, X, Y, activation, output, loss, l2)
    g_auto = loss_value_grad(params, X, Y, activation, output, loss, l2)
    g_fd = finite_difference_grad(params, X, Y, activation, output, loss, l2)
    f_scale = max(1.0, abs(float(loss_value(params, X, Y, activation, output, loss, l2))))
    fd_decides = not near_kink(params, X, Y, activation, output, loss)
    rows = []
    for key in params:
        m, a, d = (onp.asarray(g[key], dtype=float) for g in (g_manual, g_auto, g_fd))
        if m.shape != a.shape:
            rows.append(ParamCheck(key, tuple(a.shape), float("nan"), float("inf"), float("inf"),
                                   float("inf"), float("inf"), fd_decides, False))
            continue
        a_abs, a_rel = _rel(m, a)
        d_abs, d_rel = _rel(m, d)
        top = max(float(onp.max(onp.abs(m))), float(onp.max(onp.abs(a))))
        ok = (bool(onp.all(onp.isfinite(m)))
              and a_abs <= RTOL_AUTOGRAD * top
              and (d_abs <= RTOL_FD * top + ATOL_FD * f_scale or not fd_decides))
        rows.append(ParamCheck(key, tuple(m.shape), top, a_abs, a_rel, d_abs, d_rel, fd_decides, ok))
    return rows


def passed(rows: list[ParamCheck]) -> bool:
    """True when every parameter's check passed."""
    return all(r.passed for r in rows)


def rows_as_dicts(rows: list[ParamCheck]) -> list[dict]:
    """Plain dicts (JSON-ready) of the check rows."""
    return [dict(asdict(r), shape=list(r.shape)) for r in rows]


def format_table(rows: list[ParamCheck]) -> str:
    """A fixed-width table: parameter, shape, max |g|, the two relative differences, verdict."""
    head = f"{'param':<6} {'shape':<10} {'max |g|':>10} {'rel vs autograd':>16} {'rel vs fin.diff':>16}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.name:<6} {str(r.shape):<10} {r.max_abs_grad:>10.3e} {r.autograd_rel_diff:>16.2e} "
            f"{r.fd_rel_diff:>16.2e}  {'ok' if r.passed else 'MISMATCH'}"
            + ("" if r.fd_decides else " (at a kink: finite differences not counted)")
        )
    return "\n".join(lines)
