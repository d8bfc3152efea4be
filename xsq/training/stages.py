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

Each has ``value(base, Xs)`` (autograd-differentiable: predictions and
their derivatives with respect to the inputs) and ``manual_slope(base, Xs)``
(d value / d input by a hand-written forward-mode pass, its independent twin).
``base`` is the first network as ``(params, activation, output)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from autograd import make_jvp

from ..core import activations, net
from ..core.activations import ACTIVATIONS
from ..core.forward_mode import input_jacobian_unchecked, parameter_tangent
from ..core.params import Params, check_params, layer_sizes
from ..validation import Real
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

    def fits(self, base: Base) -> bool:
        """Whether it takes the base network's inputs and gives its outputs."""
        a, b = layer_sizes(self.params), layer_sizes(base.params)
        return (a[0], a[-1]) == (b[0], b[-1])

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

    def fits(self, base: Base) -> bool:
        shapes = {k: np.shape(v) for k, v in base.params.items()}
        return all({k: np.shape(v) for k, v in d.items()} == shapes for d in (self.out, self.pre))

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


STAGE_KINDS = {"network": NetworkStage, "tangent": TangentStage}


def staged_output(base: Base, stages, Xs):
    """The scaled output of a staged model: the base network plus each stage times its scale, first to last."""
    out = net.forward(base.params, Xs, base.activation, base.output)
    for stage in stages:
        out = out + stage.scale * stage.value(base, Xs)
    return out
