"""A trained model: what prediction needs, frozen once built.

A :class:`Model` holds the parameters, the :class:`~xsq.scaling.Scaler` they
were trained with, the activation and output names and, for a staged fit,
the later :class:`Stage` networks that correct it. What happened during
training is a separate :class:`~xsq.record.TrainingRecord` (``model.record``).
Nothing here changes after construction: the arrays are read-only copies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import autograd.numpy as np
import numpy as onp
from autograd import grad

from . import activations, modelfile
from .backprop import _input_jacobian
from .errors import InputError
from .network import _forward, check_inputs
from .params import Params, check_params, layer_sizes
from .record import TrainingRecord, frozen
from .scaling import Scaler

Array = onp.ndarray


def _frozen_params(params: Params) -> Params:
    return {k: frozen(v) for k, v in check_params(params).items()}


@dataclass(frozen=True)
class Stage:
    """A later stage of a staged fit: a network whose output, times ``scale``, corrects the stages before."""

    params: Params
    activation: str
    output: str
    scale: float

    def __post_init__(self):
        object.__setattr__(self, "params", _frozen_params(self.params))
        activations.get(self.activation)
        activations.get(self.output, "output")
        if not (onp.isfinite(self.scale) and self.scale > 0):
            raise InputError(f"a stage's scale must be a finite number > 0, got {self.scale!r}")


@dataclass(frozen=True)
class Model:
    """A network plus the scaling between raw data and what it was trained on.

    ``predict`` takes raw inputs (N, n_in), or (N,) for one input, and returns
    raw-scale outputs (N, n_out); ``derivative`` returns d output / d input
    on the raw scale, (N, n_out, n_in). Both are differentiable by autograd
    with respect to X.
    """

    params: Params
    scaler: Scaler
    activation: str = "sigmoid"
    output: str = "softplus"
    record: TrainingRecord | None = None
    stages: tuple[Stage, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "params", _frozen_params(self.params))
        activations.get(self.activation)
        activations.get(self.output, "output")
        sizes = layer_sizes(self.params)
        s = self.scaler
        if s.x_mean.shape != (sizes[0],) or s.x_std.shape != (sizes[0],) or s.y_scale.shape != (sizes[-1],):
            raise InputError(f"the scaling does not match a network of sizes {sizes}")
        for stage in self.stages:
            if (layer_sizes(stage.params)[0], layer_sizes(stage.params)[-1]) != (sizes[0], sizes[-1]):
                raise InputError("every stage must take the inputs and give the outputs of the first")

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer sizes (n_in, ..., n_out) of the first stage."""
        return layer_sizes(self.params)

    def _scaled(self, Xs):
        """The scaled output: the first network plus each later stage times its scale."""
        out = _forward(self.params, Xs, self.activation, self.output)
        for stage in self.stages:
            out = out + stage.scale * _forward(stage.params, Xs, stage.activation, stage.output)
        return out

    def predict(self, X) -> Array:
        """Raw-scale outputs (N, n_out) for raw inputs X (N, n_in), or (N,) with one input."""
        X = check_inputs(X, self.sizes[0])
        return self.scaler.outputs(self._scaled(self.scaler.inputs(X)))

    def derivative(self, X) -> Array:
        """d prediction / d input on the raw scale, (N, n_out, n_in), by autograd.

        Samples are independent, so the Jacobian of each output's sum over
        samples with respect to X holds every sample's slope.
        """
        X = check_inputs(X, self.sizes[0])
        Xs = self.scaler.inputs(X)
        per_output = [grad(lambda Z, j=j: np.sum(self._scaled(Z)[:, j]))(Xs) for j in range(self.sizes[-1])]
        return self.scaler.slopes(np.stack(per_output, axis=1))

    def manual_derivative(self, X) -> Array:
        """:meth:`derivative` by the hand-written forward-mode pass (no autograd), its independent twin."""
        X = check_inputs(X, self.sizes[0])
        Xs = self.scaler.inputs(X)
        slope = _input_jacobian(self.params, Xs, self.activation, self.output)
        for stage in self.stages:
            slope = slope + stage.scale * _input_jacobian(stage.params, Xs, stage.activation, stage.output)
        return self.scaler.slopes(slope)

    def save(self, path: str | os.PathLike) -> None:
        """Write the model and its training record to ``path`` (.npz) atomically; see :mod:`xsq.modelfile`."""
        stages = tuple((s.params, s.activation, s.output, s.scale) for s in self.stages)
        modelfile.write(
            path, modelfile.Parts(self.params, self.scaler, self.activation, self.output, self.record, stages)
        )


def load_model(path: str | os.PathLike) -> Model:
    """Read a model written by :meth:`Model.save`, validated as untrusted input (:mod:`xsq.modelfile`)."""
    parts = modelfile.read(path)
    stages = tuple(Stage(*stage) for stage in parts.stages)
    return Model(parts.params, parts.scaler, parts.activation, parts.output, parts.record, stages)
