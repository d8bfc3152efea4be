"""Check hand-written gradients against autograd and central finite differences.

For each parameter array the report gives the largest absolute difference,
a norm-wise relative difference ``max|a - b| / max(max|a|, max|b|)``, and a
verdict. As in ``torch.autograd.gradcheck`` (``atol + rtol * |b|``), a
difference is a mismatch only when it is above both a relative tolerance
(scaled to that array's largest entry) and an absolute floor (scaled to the
whole gradient's largest entry ``G``, or the objective's size):

* manual vs autograd: ``max|m - a| <= RTOL_AUTOGRAD * top + ATOL_AUTOGRAD * G``
  (1e-10 and 1e-12). Both evaluate the same derivatives in a different order,
  so only rounding separates them; a gradient that is exactly 0 (hand-written
  0, autograd 1e-18) is not a mismatch, while a 1e-7 relative error is;
* manual vs central differences: ``max|m - d| <= RTOL_FD * top + ATOL_FD * max(1, |f|)``
  (1e-6 and 1e-8), the rounding noise of a difference quotient with step
  ``h = FD_STEP * max(1, |theta|)``.

At a kink of relu or mae the derivative does not exist and a difference
quotient that straddles it is not a derivative. When any relu pre-activation
or mae residual lies within ``KINK_BAND`` of its kink, the finite-difference
column is reported but does not decide the verdict (``fd_decides`` is false);
the autograd comparison always does. (Second derivatives, in :mod:`xsq.checks.hessian_check`,
also treat huber's |r| = 1, where its second derivative jumps, as a kink.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ..core import net
from ..core.api import check_objective
from ..core.params import Params, init_params

RTOL_AUTOGRAD = 1e-10
ATOL_AUTOGRAD = 1e-12
RTOL_FD = 1e-6
ATOL_FD = 1e-8
FD_STEP = 1e-6
KINK_BAND = 1e-4


@dataclass(frozen=True)
class ParamCheck:
    """How one parameter array's derivative under test compares with its two references.

    ``ref_*``: against the exact reference (autograd's gradient here; autograd's
    reverse-over-reverse product in :mod:`xsq.checks.hessian_check`); ``fd_*``: against
    central differences; ``max_abs_grad``: the largest entry of the derivative.
    """

    name: str
    shape: tuple
    max_abs_grad: float
    ref_abs_diff: float
    ref_rel_diff: float
    fd_abs_diff: float
    fd_rel_diff: float
    fd_decides: bool
    passed: bool


def differences(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(max |a - b|, that divided by the larger of max|a| and max|b|; 0 when both are 0)."""
    diff = float(np.max(np.abs(a - b)))
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    return diff, (diff / scale if scale > 0 else 0.0)


def near_kink(
    params: Params, X, Y, activation: net.Act, output: net.Act, loss: str, band: float = KINK_BAND, order: int = 1
) -> bool:
    """True when a relu pre-activation, an mae residual or (for second derivatives, ``order=2``) a huber
    residual's |r| = 1 boundary lies within ``band`` of it: a difference quotient there may straddle a kink."""
    passes = net.forward_pass(params, X, activation, output)
    n = len(passes.Zs) - 1
    for i in range(1, n + 1):
        if net.layer_activation(i, n, activation, output).kink and np.any(np.abs(passes.Zs[i]) < band):
            return True
    r = passes.As[-1] - Y
    if loss == "mae" and np.any(np.abs(r) < band):
        return True
    return order == 2 and loss == "huber" and bool(np.any(np.abs(np.abs(r) - 1.0) < band))


def central_differences(f: Callable[[Params], float], params: Params, step: float = FD_STEP) -> Params:
    """(f(theta + h e_i) - f(theta - h e_i)) / 2h for every entry, h = step * max(1, |theta_i|)."""
    out = {}
    for key, value in params.items():
        g = np.zeros_like(value, dtype=float)
        for idx in np.ndindex(value.shape):
            h = step * max(1.0, abs(float(value[idx])))
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[key][idx] = value[idx] + h
            f_plus = f(shifted)
            shifted[key][idx] = value[idx] - h
            g[idx] = (f_plus - f(shifted)) / (2 * h)
        out[key] = g
    return out


class Tolerances(NamedTuple):
    """Mismatch when ``diff > rtol * top + atol * scale`` (see the module docstring), per reference."""

    rtol_ref: float = RTOL_AUTOGRAD
    atol_ref: float = ATOL_AUTOGRAD
    rtol_fd: float = RTOL_FD
    atol_fd: float = ATOL_FD


FIRST_ORDER = Tolerances()


def compare(name: str, m, a, d, scale: float, f_scale: float, fd_decides: bool, tol: Tolerances = FIRST_ORDER):
    """One row: ``m`` (under test) against the reference ``a`` and the finite differences ``d``."""
    m, a, d = (np.asarray(v, dtype=float) for v in (m, a, d))
    if m.shape != a.shape:
        inf = float("inf")
        return ParamCheck(name, tuple(a.shape), float("nan"), inf, inf, inf, inf, fd_decides, False)
    top = max(float(np.max(np.abs(m))), float(np.max(np.abs(a))))
    a_abs, a_rel = differences(m, a)
    d_abs, d_rel = differences(m, d)
    ok = (
        bool(np.all(np.isfinite(m)))
        and a_abs <= tol.rtol_ref * top + tol.atol_ref * scale
        and (d_abs <= tol.rtol_fd * top + tol.atol_fd * f_scale or not fd_decides)
    )
    return ParamCheck(name, tuple(m.shape), top, a_abs, a_rel, d_abs, d_rel, fd_decides, ok)


def gradcheck(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    manual: Callable | None = None,
    activation: str = "sigmoid",
    output: str = "softplus",
    loss: str = "mse",
    l2: float = 0.0,
) -> list[ParamCheck]:
    """Compare ``manual`` (default: the hand-written backprop of :func:`xsq.manual_grad`) with autograd
    and central differences.

    Returns one :class:`ParamCheck` per parameter array, in params order; the
    check passes when every row's ``passed`` is true. ``manual`` may be any
    function of ``(params, X, Y, activation, output, loss, l2)`` returning a
    gradient dict (the tests use it to show that a wrong gradient is caught).
    """
    params, X, Y = check_objective(params, X, Y, activation, output, loss, l2)
    args = (X, Y, activation, output, loss, l2)
    g_manual = (manual or net.manual_grad)(params, *args)
    g_auto = net.autograd_grad(params, *args)
    g_fd = central_differences(lambda p: net.objective(p, *args), params)
    f_scale = max(1.0, abs(float(net.objective(params, *args))))
    scale = max(float(np.max(np.abs(g))) for g in g_auto.values())
    fd_decides = not near_kink(params, X, Y, activation, output, loss)
    return [compare(k, g_manual[k], g_auto[k], g_fd[k], scale, f_scale, fd_decides) for k in params]


def passed(rows: list[ParamCheck]) -> bool:
    """True when every parameter's check passed."""
    return all(r.passed for r in rows)


def rows_as_dicts(rows: list[ParamCheck]) -> list[dict]:
    """Plain dicts (JSON-ready) of the check rows."""
    return [dict(asdict(r), shape=list(r.shape)) for r in rows]


def format_table(rows: list[ParamCheck], ref: str = "autograd", fd: str = "fin.diff", value: str = "max |g|") -> str:
    """A fixed-width table: parameter, shape, largest entry, the two relative differences, verdict."""
    a, b = f"rel vs {ref}", f"rel vs {fd}"
    wa, wb = max(16, len(a)), max(16, len(b))
    head = f"{'param':<6} {'shape':<10} {value:>10} {a:>{wa}} {b:>{wb}}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        fd_text = f"{r.fd_rel_diff:.2e}" if r.fd_rel_diff == r.fd_rel_diff else "-"
        lines.append(
            f"{r.name:<6} {str(r.shape):<10} {r.max_abs_grad:>10.3e} {r.ref_rel_diff:>{wa}.2e} "
            f"{fd_text:>{wb}}  {'ok' if r.passed else 'MISMATCH'}"
            + ("" if r.fd_decides or r.fd_rel_diff != r.fd_rel_diff else " (at a kink: differences not counted)")
        )
    return "\n".join(lines)


def random_problem(sizes, activation: str, n: int, seed: int) -> tuple[Params, np.ndarray, np.ndarray]:
    """A network and data to check at: random weights and biases (so no unit sits exactly at a kink),
    inputs uniform on [-2, 2], and positive targets (so every loss, relative_mse too, applies)."""
    rng = np.random.default_rng(seed)
    params = init_params(sizes, seed=rng, activation=activation)
    for key in params:
        if key.startswith("b"):
            params[key] = rng.normal(0.0, 0.5, size=params[key].shape)
    X = rng.uniform(-2.0, 2.0, size=(n, sizes[0]))
    Y = X[:, :1] ** 2 + 0.5 + np.arange(sizes[-1])
    return params, X, Y
