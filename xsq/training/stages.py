"""The later stages of a staged model: what each adds to the first network's scaled output, and its slope.

A staged model predicts ``first(x) + sum_k scale_k * stage_k(x)`` on the scaled
scale (see :mod:`xsq.training.staged_fit` for how the stages are fitted). Two kinds:

* :class:`NetworkStage`: a small network of its own (``params``,
  ``activation``, ``output``), fitted to the residual left before it.
* :class:`TangentStage`: a linear correction in the span of the first
  network's parameter Jacobian: ``D_theta z [pre] + g'(z) D_theta z [out]``,
  where z is the first network's last pre-activation, g its output
  activation, and ``out`` and ``pre`` are directions in its parameter space
  (dicts shaped like its params). It is the first network's linearisation,
  so it bends where the first network bends.
* :class:`DerivativeStage`: for a first network of one input, one hidden layer and an identity output, a
  linear correction in the span of its parameter derivatives of every order up to ``order``
  (:func:`derivative_features`). Its first order is the tangent stage's span; the higher orders add
  functions that bend where the first network's units do, but more sharply.

Each has ``value(base, Xs)`` (autograd-differentiable: predictions and
their derivatives with respect to the inputs) and ``manual_slope(base, Xs)``
(d value / d input by a hand-written forward-mode pass, its independent twin).
``base`` is the first network as ``(params, activation, output)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd import make_jvp

from ..core import activations, net
from ..core.activations import ACTIVATIONS
from ..core.forward_mode import input_jacobian_unchecked, parameter_tangent
from ..core.params import Params, check_params, layer_sizes
from ..errors import InputError
from ..validation import Real, Whole
from .record import frozen


class Base(NamedTuple):
    """The first network of a staged model."""

    params: Params
    activation: str
    output: str


def _settle(stage, *param_fields: str) -> None:
    """Check a stage's params-shaped fields and scale, and keep read-only copies of the arrays."""
    for name in param_fields:
        object.__setattr__(stage, name, {k: frozen(v) for k, v in check_params(getattr(stage, name)).items()})
    object.__setattr__(stage, "scale", Real(0, low_open=True).check(stage.scale, "a stage's scale"))


@dataclass(frozen=True)
class NetworkStage:
    """A network whose output, times ``scale``, corrects the stages before it."""

    params: Params
    activation: str
    output: str
    scale: float
    kind = "network"

    def __post_init__(self):
        _settle(self, "params")
        activations.get(self.activation)
        activations.get(self.output, "output")

    def misfit(self, base: Base) -> str | None:
        """Why it cannot stand on the base network (None if it can): it must take its inputs and give its outputs."""
        a, b = layer_sizes(self.params), layer_sizes(base.params)
        if (a[0], a[-1]) != (b[0], b[-1]):
            return f"takes {a[0]} inputs and gives {a[-1]} outputs, where the first network has {b[0]} and {b[-1]}"
        return None

    def value(self, base: Base, Xs):
        return net.forward(self.params, Xs, self.activation, self.output)

    def manual_slope(self, base: Base, Xs: np.ndarray) -> np.ndarray:
        return input_jacobian_unchecked(self.params, Xs, self.activation, self.output)


@dataclass(frozen=True)
class TangentStage:
    """``scale * (D_theta z [pre] + g'(z) D_theta z [out])`` of the base network (see the module docstring)."""

    out: Params
    pre: Params
    scale: float
    kind = "tangent"

    def __post_init__(self):
        _settle(self, "out", "pre")

    def misfit(self, base: Base) -> str | None:
        shapes = {k: np.shape(v) for k, v in base.params.items()}
        if not all({k: np.shape(v) for k, v in d.items()} == shapes for d in (self.out, self.pre)):
            return "has directions not shaped like the first network's parameters"
        return None

    def value(self, base: Base, Xs):
        def z_of(params):
            return net.forward(params, Xs, base.activation, "identity")

        jvp = make_jvp(z_of)(base.params)
        slope = ACTIVATIONS[base.output].deriv(z_of(base.params))
        return jvp(self.pre)[1] + slope * jvp(self.out)[1]

    def manual_slope(self, base: Base, Xs: np.ndarray) -> np.ndarray:
        out = parameter_tangent(base.params, self.out, Xs, base.activation)
        pre = parameter_tangent(base.params, self.pre, Xs, base.activation)
        g = ACTIVATIONS[base.output]
        d1, d2 = g.deriv(out.z)[:, None, :], g.second(out.z)[:, None, :]
        slope = pre.z_cx + d2 * out.z_x * out.z_c[:, None, :] + d1 * out.z_cx  # (N, n0, m)
        return np.swapaxes(slope, 1, 2)


MAX_ORDER = 6  # the highest order of derivative a stored DerivativeStage may take


def columns(hidden: int, order: int) -> int:
    """How many features :func:`derivative_features` gives: 1 + H (order + 1)(order + 2) / 2."""
    return 1 + hidden * (order + 1) * (order + 2) // 2


def takes_derivatives(base: Base) -> bool:
    """Whether a :class:`DerivativeStage` can stand on ``base``: one input, one hidden layer of units whose
    derivatives of every order are known in closed form, one identity output."""
    sizes = layer_sizes(base.params)
    return (
        len(sizes) == 3
        and sizes[0] == sizes[-1] == 1
        and base.output == "identity"
        and ACTIVATIONS[base.activation].nth is not None
    )


def derivative_features(base: Base, Xs: np.ndarray, order: int) -> np.ndarray:
    """The derivatives of a 1-H-1 identity-output network f(x) = sum_j v_j s(w_j x + b_j) + c with respect to its
    parameters, of orders 0 to ``order``, up to constant factors, as columns (N, :func:`columns`):

    * 1 (d f / d c) and s(z_j) (d f / d v_j);
    * s^(k)(z_j) x^m for 1 <= k <= order and 0 <= m <= k: the k-th derivatives with respect to w_j and b_j
      (d^k f / d w_j^m d b_j^(k - m) = v_j s^(k)(z_j) x^m), unit by unit within each (k, m).

    Xs (N, 1) is on the scaled scale. Built with autograd's numpy, so a stage's value differentiates in Xs.
    """
    nth = ACTIVATIONS[base.activation].nth
    assert nth is not None  # takes_derivatives(base)
    Z = Xs @ base.params["W1"] + base.params["b1"]
    x = _unsaturated(Xs, nth(Z, 1))
    cols = [anp.ones((len(Xs), 1)), nth(Z, 0)]
    for k in range(1, order + 1):
        slope = nth(Z, k)
        cols += [slope * x**m for m in range(k + 1)]
    return anp.concatenate(cols, axis=1)


def _unsaturated(Xs, slope):
    """Xs (N, 1) spread over the units (N, H), 0 where a unit's slope has underflowed to 0: there every
    derivative s^(k) (k >= 1) is 0 too, and x^m must not overflow to inf beside it (0 * inf is NaN)."""
    spread = Xs * anp.ones(anp.shape(slope))  # broadcast by a product: autograd's where does not sum back
    return anp.where(slope != 0, spread, 0.0)


def derivative_feature_slopes(base: Base, Xs: np.ndarray, order: int) -> np.ndarray:
    """d / dx of each column of :func:`derivative_features` (N, :func:`columns`), by hand in plain numpy:
    d (s^(k)(z_j) x^m) / dx = s^(k+1)(z_j) w_j x^m + m s^(k)(z_j) x^(m - 1)."""
    nth = ACTIVATIONS[base.activation].nth
    assert nth is not None
    w = base.params["W1"][0]
    Z = Xs @ base.params["W1"] + base.params["b1"]
    s = [np.asarray(nth(Z, k)) for k in range(order + 2)]
    x = _unsaturated(Xs, s[1])
    cols = [np.zeros((len(Xs), 1)), s[1] * w]
    for k in range(1, order + 1):
        cols += [s[k + 1] * w * x**m + (m * s[k] * x ** (m - 1) if m else 0.0) for m in range(k + 1)]
    return np.concatenate(cols, axis=1)


@dataclass(frozen=True)
class DerivativeStage:
    """``scale * derivative_features(base, Xs, order) @ coef``: a combination of the base network's parameter
    derivatives up to ``order`` (see :func:`derivative_features`); ``coef`` is (:func:`columns`,)."""

    coef: np.ndarray
    order: int
    scale: float
    kind = "derivatives"

    def __post_init__(self):
        object.__setattr__(self, "order", Whole(1, MAX_ORDER).check(self.order, "a derivative stage's order"))
        coef = np.asarray(self.coef)
        if coef.ndim != 1 or coef.dtype.kind != "f" or not np.all(np.isfinite(coef)):
            raise InputError("a derivative stage's coef must be a vector of finite floats")
        object.__setattr__(self, "coef", frozen(coef))
        object.__setattr__(self, "scale", Real(0, low_open=True).check(self.scale, "a stage's scale"))

    def misfit(self, base: Base) -> str | None:
        if not takes_derivatives(base):
            known = ", ".join(name for name, a in ACTIVATIONS.items() if a.nth is not None)
            return (
                "needs a first network of one input, one hidden layer of units with derivatives of every order "
                f"({known}) and one identity output"
            )
        need = columns(layer_sizes(base.params)[1], self.order)
        if len(self.coef) != need:
            return f"has {len(self.coef)} coefficients, where order {self.order} on this network takes {need}"
        return None

    def value(self, base: Base, Xs):
        return derivative_features(base, Xs, self.order) @ self.coef[:, None]

    def manual_slope(self, base: Base, Xs: np.ndarray) -> np.ndarray:
        return (derivative_feature_slopes(base, Xs, self.order) @ self.coef)[:, None, None]


STAGE_KINDS = {"network": NetworkStage, "tangent": TangentStage, "derivatives": DerivativeStage}


def staged_output(base: Base, stages, Xs):
    """The scaled output of a staged model: the base network plus each stage times its scale, first to last."""
    out = net.forward(base.params, Xs, base.activation, base.output)
    for stage in stages:
        out = out + stage.scale * stage.value(base, Xs)
    return out
