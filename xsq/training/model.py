"""A trained model: what prediction needs, frozen once built.

A :class:`Model` holds the parameters, the :class:`~xsq.training.scaling.Scaler` they
were trained with, the activation and output names and, for a staged fit,
the later stages that correct it (:mod:`xsq.training.stages`). What happened during
training is a separate :class:`~xsq.training.record.TrainingRecord` (``model.record``).
Nothing here changes after construction: the arrays (the scaler's too) are read-only copies.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import autograd.numpy as anp
import numpy as np
from autograd import grad
from numpy.typing import ArrayLike

from ..core import activations
from ..core import jacobian as jac
from ..core.api import check_inputs
from ..core.forward_mode import input_jacobian_unchecked
from ..core.params import Params, check_params, count, layer_sizes
from ..errors import InputError
from ..validation import Flag, Real
from . import modelfile
from .bayes import predictive_variance, prior_groups
from .record import TrainingRecord, frozen
from .scaling import Scaler
from .stages import STAGE_KINDS, Base, staged_output

STD_BLOCK = 1 << 20  # error bars are computed for about this many Jacobian entries at a time
ROWS = 256  # rows per block of every per-row evaluation (see by_blocks)


def by_blocks(fn, Xs, rows: int = ROWS):
    """``fn(Xs)`` for rows Xs (N, n), evaluated in blocks of exactly ``rows`` rows (the last one padded with
    copies of its last row), its results stacked along the first axis.

    BLAS picks its kernels, and so its order of summation, by the shapes it is given: a row predicted alone and
    the same row among a thousand others could differ in their last bit. Through blocks of one shape, every
    row's arithmetic is the same whatever else is asked with it, so ``xsq predict 3`` prints what a batch of
    inputs holding 3 prints for it."""
    n = len(Xs)
    if n in (0, rows):
        return fn(Xs)
    out = []
    for i in range(0, n, rows):
        block = Xs[i : i + rows]
        short = rows - len(block)
        padded = anp.concatenate([block, anp.repeat(block[-1:], short, axis=0)]) if short else block
        out.append(fn(padded)[: len(block)])
    return anp.concatenate(out)  # (autograd's: predict differentiates in its inputs)


SYMMETRY_TOL = 1e-8  # a covariance read back may differ from its transpose by this, relative to its largest entry


@dataclass(frozen=True)
class Posterior:
    """What error bars need (see :mod:`xsq.training.bayes`), on the scaled targets: each output's noise variance
    1 / beta_k (K,; one value serves every output, as files written before per-output precisions hold it) and
    the Laplace covariance A^-1 (P, P) of the first network's flat parameters. Checked and read-only."""

    noise_variance: np.ndarray
    covariance: np.ndarray

    def __post_init__(self):
        given = self.noise_variance
        one_d = isinstance(given, (list, tuple)) or (isinstance(given, np.ndarray) and given.ndim == 1)
        values = list(given) if one_d else [given]  # each value is checked alone: nothing nested gets through
        if not values:
            raise InputError("the noise variance must be positive numbers, one per output")
        v = np.array([Real(0, low_open=True).check(x, "the noise variance") for x in values])
        C = np.array(self.covariance, dtype=float)
        if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.all(np.isfinite(C)):
            raise InputError("the posterior covariance must be a square matrix of finite numbers")
        top = float(np.max(np.abs(C))) if C.size else 0.0
        if not np.allclose(C, C.T, rtol=0, atol=SYMMETRY_TOL * top) or np.any(np.diag(C) < 0):
            raise InputError("the posterior covariance must be symmetric with a non-negative diagonal")
        if C.size and np.linalg.eigvalsh(C)[0] < -SYMMETRY_TOL * top:
            raise InputError("the posterior covariance must be positive semi-definite")
        object.__setattr__(self, "noise_variance", frozen(v))
        object.__setattr__(self, "covariance", frozen(C))


@dataclass(frozen=True)
class Model:
    """A network (and any later stages) plus the scaling between raw data and what it was trained on.

    ``predict`` takes raw inputs (N, n_in), or (N,) for one input, and returns
    raw-scale outputs (N, n_out); ``derivative`` returns d output / d input
    on the raw scale, (N, n_out, n_in). Both are differentiable by autograd
    with respect to X. ``params`` holds read-only copies of the arrays in a
    plain dict, which autograd can differentiate with respect to.
    """

    params: Params
    scaler: Scaler
    activation: str = "sigmoid"
    output: str = "softplus"
    record: TrainingRecord | None = None
    stages: tuple = ()
    posterior: Posterior | None = None

    def __post_init__(self):
        object.__setattr__(self, "params", {k: frozen(v) for k, v in check_params(self.params).items()})
        activations.get(self.activation)
        activations.get(self.output, "output")
        sizes = layer_sizes(self.params)
        if self.scaler.x_mean.shape != (sizes[0],) or self.scaler.y_scale.shape != (sizes[-1],):
            raise InputError(f"the scaling does not match a network of sizes {sizes}")
        if self.record is not None and self.record.domain and len(self.record.domain) != sizes[0]:
            raise InputError(f"its training domain has {len(self.record.domain)} ranges for {sizes[0]} input(s)")
        if self.record is not None:
            for names, width, kind in (
                (self.record.inputs, sizes[0], "input"),
                (self.record.outputs, sizes[-1], "output"),
            ):
                if names and len(names) != width:
                    raise InputError(f"it names {len(names)} {kind} columns for {width} {kind}(s)")
            kept = [w.hidden for w in self.record.widths if w.kept]
            if kept and (len(sizes) != 3 or kept != [sizes[1]]):
                raise InputError(f"its width records keep a network of {kept[0]} hidden units, not of sizes {sizes}")
            for w in self.record.widths:
                if w.gamma > count((sizes[0], w.hidden, sizes[-1])):  # (NaN compares False)
                    raise InputError(f"its width records give {w.hidden} hidden units a gamma above their parameters")
        evidence = self.record.evidence if self.record is not None else None
        if evidence is not None:
            groups = int(prior_groups(sizes, evidence.regularization).max()) + 1  # its priors
            found = (evidence.n_params, len(evidence.noise_level), len(evidence.alpha))
            if found != (count(sizes), sizes[-1], groups):
                raise InputError(
                    "its evidence record is of {} parameters, {} outputs and {} prior groups, for a network of "
                    "{}, {} and {}".format(*found, count(sizes), sizes[-1], groups)
                )
        for k, stage in enumerate(self.stages, start=2):
            if not isinstance(stage, tuple(STAGE_KINDS.values())):
                raise InputError(f"stage {k} is not a stage ({', '.join(STAGE_KINDS)})")
            if problem := stage.misfit(self.base):
                raise InputError(f"stage {k} ({stage.kind}) {problem}")
        if self.posterior is not None:
            P = count(sizes)
            if self.posterior.covariance.shape != (P, P):
                raise InputError(f"its posterior covariance is not {P} x {P}, one row per parameter")
            if len(self.posterior.noise_variance) not in (1, sizes[-1]):
                raise InputError(
                    f"its posterior has {len(self.posterior.noise_variance)} noise variances for {sizes[-1]} outputs"
                )
            if self.stages:
                raise InputError("a staged model has no error bars")

    def __repr__(self) -> str:  # what the model is, not every weight (its arrays are in params)
        extras = [f"{len(self.stages)} later stage{'s' * (len(self.stages) != 1)}"] if self.stages else []
        extras += ["error bars"] if self.posterior is not None else []
        shown = ", ".join(
            [f"sizes={self.sizes}", f"activation={self.activation!r}", f"output={self.output!r}", *extras]
        )
        return f"Model({shown})"

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer sizes (n_in, ..., n_out) of the first network."""
        return layer_sizes(self.params)

    @property
    def base(self) -> Base:
        """The first network, as the stages see it."""
        return Base(self.params, self.activation, self.output)

    def upto(self, k: int) -> Model:
        """The model with only its first ``k`` stages (the first network is stage 1)."""
        return dataclasses.replace(self, stages=self.stages[: max(k - 1, 0)])

    def _scaled(self, Xs):
        """The scaled output: the first network plus each later stage times its scale, in stage order."""
        return staged_output(self.base, self.stages, Xs)

    def predict(self, X: ArrayLike, return_std: bool = False):
        """Raw-scale outputs (N, n_out) for raw inputs X (N, n_in), or (N,) with one input.

        ``return_std=True`` returns (mean, std), both (N, n_out): the standard deviation of a new
        measurement at X by the Laplace approximation, ``sqrt(noise variance + g^T A^-1 g)`` with g the
        output's gradient with respect to the parameters (see :mod:`xsq.training.bayes`). Only a model trained
        with ``regularization="bayes"`` or ``"l2"`` has error bars; others raise :class:`InputError`.
        """
        return_std = Flag().check(return_std, "return_std")
        X = check_inputs(X, self.sizes[0])
        mean = self.scaler.outputs(by_blocks(self._scaled, self.scaler.inputs(X)))
        if not return_std:
            return mean
        return mean, self.std(X)

    def std(self, X: ArrayLike) -> np.ndarray:
        """The error bars of :meth:`predict` alone: (N, n_out) on the raw scale."""
        if self.posterior is None:
            raise InputError(
                "this model has no error bars: it was trained without a noise estimate "
                "(train with regularization 'bayes' or 'l2' for them)"
            )
        X = check_inputs(X, self.sizes[0])
        Xs, C, K = self.scaler.inputs(X), self.posterior.covariance, self.sizes[-1]
        v = np.broadcast_to(self.posterior.noise_variance, (K,))  # each output's, on the scaled targets
        rows = max(1, min(ROWS, STD_BLOCK // (len(C) * K)))  # G is (rows K, P): the outputs raveled, row by row

        def variance(block: np.ndarray) -> np.ndarray:
            G = jac.jacobian(self.params, block, self.activation, self.output)
            return predictive_variance(G, C, np.tile(v, len(block))).reshape(len(block), K)

        return np.sqrt(by_blocks(variance, Xs, rows)) * self.scaler.y_scale

    def derivative(self, X: ArrayLike) -> np.ndarray:
        """d prediction / d input on the raw scale, (N, n_out, n_in), by autograd.

        Samples are independent, so the gradient of each output's sum over
        samples with respect to X holds every sample's slope.
        """
        X = check_inputs(X, self.sizes[0])

        def slopes(block: np.ndarray) -> np.ndarray:
            per_output = [grad(lambda Z, j=j: anp.sum(self._scaled(Z)[:, j]))(block) for j in range(self.sizes[-1])]
            return anp.stack(per_output, axis=1)  # (autograd's: the slopes differentiate again)

        return self.scaler.slopes(by_blocks(slopes, self.scaler.inputs(X)))

    def manual_derivative(self, X: ArrayLike) -> np.ndarray:
        """:meth:`derivative` by hand-written forward-mode passes (no autograd), its independent twin."""
        X = check_inputs(X, self.sizes[0])

        def slopes(block: np.ndarray) -> np.ndarray:
            slope = input_jacobian_unchecked(self.params, block, self.activation, self.output)
            for stage in self.stages:
                slope = slope + stage.scale * stage.manual_slope(self.base, block)
            return slope

        return self.scaler.slopes(by_blocks(slopes, self.scaler.inputs(X)))

    def save(self, path: str | os.PathLike) -> None:
        """Write the model and its training record to ``path`` (.npz) atomically; see :mod:`xsq.training.modelfile`."""
        modelfile.write(
            path,
            modelfile.Parts(
                self.params,
                self.scaler,
                self.activation,
                self.output,
                self.record,
                tuple(modelfile.stage_parts(s) for s in self.stages),
                None if self.posterior is None else (self.posterior.noise_variance, self.posterior.covariance),
            ),
        )


def load_model(path: str | os.PathLike) -> Model:
    """Read a model written by :meth:`Model.save`, validated as untrusted input (:mod:`xsq.training.modelfile`)."""
    parts = modelfile.read(path)
    try:
        stages = tuple(STAGE_KINDS[kind](**fields) for kind, fields in parts.stages)
        posterior = None if parts.posterior is None else Posterior(*parts.posterior)
        return Model(parts.params, parts.scaler, parts.activation, parts.output, parts.record, stages, posterior)
    except InputError as exc:
        raise InputError(f"model file {os.fsdecode(path)!r} is not a valid xsq model: {exc}") from None
