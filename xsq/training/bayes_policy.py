"""Bayesian-regularised Levenberg-Marquardt (MATLAB's ``trainbr``): the epoch iterator and what it leaves.

Screening, the evidence iterations, the run to the mode and the posterior are one run's (its data, prior
groups and the trace for the record), so they live in one module; the precisions pass from step to step.

:class:`BayesRun` trains on the objective of :mod:`xsq.training.bayes`,
``beta * E_D + sum_g alpha_g * E_W,g`` (one beta for every output, on targets
scaled column by column; :meth:`BayesRun.posterior` gives each output its own),
as a least-squares problem LM already solves: the residuals ``sqrt(beta) r``
stacked on ``sqrt(alpha) theta``
(:func:`regularised`). The precisions are re-estimated from the evidence
before every step, from the same J^T J.

1. **Screening.** The first initialisation and ``restarts`` others get
   ``SCREEN_STEPS`` steps each (fewer on a small epoch budget). Every other
   candidate first takes ``FREE_STEPS`` plain LM steps at the starting
   precisions (the fit first: updating the precisions while the fit is still
   poor can read the misfit as noise and over-regularise), the others update
   them from the first step (a fit that starts by overfitting can stay in an
   overfitted mode). The candidate with the highest log evidence goes on:
   the evidence, not a validation split, judges which start was better.
2. **Evidence iterations** (phase ``"warmup"`` in the history) until the
   precisions and the objective settle (``SETTLED``) or the budget is spent.
3. **The mode.** With the precisions frozen, LM runs to the minimum of that
   objective (``MODE_STEPS`` at most), and its parameters are yielded once,
   with phase ``"converged"``: the loop keeps them.

``regularization="l2"`` is step 3 alone, with ``beta = 1`` and one alpha
fixed at ``L2_DECAY``. Either way :meth:`BayesRun.posterior` then gives the
evidence at the kept parameters: gamma, the noise precisions and the Laplace
covariance that :meth:`xsq.Model.predict` uses for error bars.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import NamedTuple, Unpack

import numpy as np

from ..core.params import Params, flatten, init_params, unflatten_unchecked
from ..errors import TrainingStalled
from . import bayes
from .epochs import Data, Epoch, screening_budget
from .lm import LeastSquares, LMState, lm_init, lm_step
from .lm_policy import Evaluation, least_squares
from .loop import Callback, RecordFields, Trained, run
from .model import Posterior
from .record import CONVERGED, SCREEN, WARMUP, EvidenceRecord, TrainingRecord
from .scaling import Scaler
from .settings import TrainSettings

SCREEN_STEPS = 20  # steps per screened initialisation ...
FREE_STEPS = 10  # ... of which the first are plain LM at the starting precisions: the fit first, then the evidence
MODE_STEPS = 100  # most LM steps to the mode once the precisions are frozen
MODE_TOL = 1e-9  # ... which ends when a step lowers the objective by less than this, relative
SETTLED = 1e-3  # the precisions (in log) and the objective (relative) change by less than this: settled
SETTLED_TIMES = 3  # ... this many steps in a row
ALPHA_START = 0.01  # the starting weight decay; beta starts at 1 / the untrained network's mean square error
GEODESIC = False  # LM's geodesic acceleration (xsq.training.lm): here it costs more than it saves
ALTERNATE = True  # every other screened candidate starts the evidence updates at once (no FREE_STEPS)
# regularization="l2": minimise sum(r^2) + L2_DECAY * sum(theta^2) over every parameter, biases too
# (not the l2 of xsq.objective, which adds l2 * sum(W^2) / 2 to the mean loss)
L2_DECAY = 1e-2
NOISE_STEPS = 100  # most updates of each output's beta at the kept parameters (several outputs)
NOISE_TOL = 1e-6  # ... which end when no beta below its bound changes by more than this, in log


class Hyper(NamedTuple):
    """The precisions a step uses: ``alpha`` (G,) per prior group, ``beta``, and ``alpha_p`` (P,) per parameter.
    Each evidence step makes new ones, and with them a new least-squares problem (:func:`regularised`)."""

    alpha: np.ndarray
    beta: float
    alpha_p: np.ndarray


class DataJacobian:
    """d f(X; theta) / d theta (N n_out, P) and its Gram matrix J^T J (P, P) from a residual evaluation of the
    network's ``data`` problem (:func:`xsq.training.lm_policy.least_squares`), kept for the last point asked:
    LM and the evidence ask at the same point, and no precision enters either. Each screened candidate gets its
    own (a fast path's Jacobian is overwritten by its next call)."""

    def __init__(self, data: LeastSquares):
        self.data = data
        self._theta: np.ndarray | None = None
        self._J = self._gram = np.empty((0, 0))

    def __call__(self, theta: np.ndarray, evaluation: Evaluation) -> np.ndarray:
        if self._theta is not theta:
            self._J = self.data.jacobian(theta, evaluation).view()
            self._gram = self._J.T @ self._J
            self._J.flags.writeable = self._gram.flags.writeable = False  # shared: read, never changed
            self._theta = theta
        return self._J

    def gram(self, theta: np.ndarray, evaluation: Evaluation) -> np.ndarray:
        """J^T J at theta (P, P), read-only."""
        self(theta, evaluation)
        return self._gram


def augmented(r: np.ndarray, theta: np.ndarray, hyper: Hyper) -> np.ndarray:
    """The residuals LM minimises: ``[sqrt(beta) r, sqrt(alpha_p) theta]`` ((N n_out + P,)) for the data's r."""
    return np.concatenate([np.sqrt(hyper.beta) * r, np.sqrt(hyper.alpha_p) * theta])


def regularised(data: LeastSquares, hyper: Hyper, data_jacobian: DataJacobian) -> LeastSquares:
    """The least-squares problem at the precisions ``hyper``: the residuals of :func:`augmented` (their
    evaluation is the data's evaluation and r), their Jacobian, the data's stacked on ``diag(sqrt(alpha_p))``,
    and its normal equations ``beta J^T J + diag(alpha_p)``, ``beta J^T r + alpha_p theta`` from the data's
    Gram matrix."""

    def residuals(theta):
        r, evaluation = data.residuals(theta)
        return augmented(r, theta, hyper), (evaluation, r)

    def jacobian(theta, aux):
        return np.vstack([np.sqrt(hyper.beta) * data_jacobian(theta, aux[0]), np.diag(np.sqrt(hyper.alpha_p))])

    def normal(theta, aux, r):
        evaluation, n = aux[0], len(r) - len(theta)  # r: sqrt(beta) times the data's n residuals, then the prior's
        A = hyper.beta * data_jacobian.gram(theta, evaluation)
        A.flat[:: len(theta) + 1] += hyper.alpha_p
        return A, np.sqrt(hyper.beta) * (data_jacobian(theta, evaluation).T @ r[:n]) + np.sqrt(hyper.alpha_p) * r[n:]

    return LeastSquares(residuals, jacobian, normal)


class BayesRun:
    """The epochs of a Bayesian-regularised (or fixed-l2) LM fit, and the evidence they leave.

    ``trace`` gets one (alpha (G,), beta, gamma) per yielded epoch, for the record's history.
    """

    def __init__(self, data: Data, sizes: tuple[int, ...], rng: np.random.Generator, s: TrainSettings):
        self.data, self.rng, self.s = data, rng, s
        self.X, self.Y = data.X, data.Y
        self.n = self.Y.size
        self.K = self.Y.shape[1]  # outputs: training weighs them by one beta, the posterior gives each its own
        self.sizes = sizes
        self.groups = bayes.prior_groups(sizes, s.regularization)
        self.G = int(self.groups.max()) + 1
        self.trace: list[tuple[np.ndarray, float, float]] = []
        self.hyper: Hyper | None = None  # the precisions the mode was found at (set by _to_mode)

    # --- one evidence step -------------------------------------------------------------

    def _hyper(self, alpha: np.ndarray, beta: float) -> Hyper:
        return Hyper(alpha, beta, alpha[self.groups])

    def _problem(self, hyper: Hyper, dj: DataJacobian) -> LeastSquares:
        return regularised(dj.data, hyper, dj)

    def _data_jacobian(self, like: Params) -> DataJacobian:
        return DataJacobian(least_squares(self.X, self.Y, self.s.activation, self.s.output, "mse", like))

    def _restate(self, state: LMState, hyper: Hyper) -> LMState:
        """The state's residuals and cost under new precisions (no new forward pass)."""
        aug = augmented(state.aux[1], state.theta, hyper)
        return state._replace(r=aug, cost=float(aug @ aug))

    def _evidence(self, state: LMState, hyper: Hyper, dj: DataJacobian) -> bayes.Evidence:
        evaluation, r = state.aux
        J, gram = dj(state.theta, evaluation), dj.gram(state.theta, evaluation)
        return bayes.evidence_update(J, state.theta, r @ r, self.n, hyper.alpha, hyper.beta, self.groups, gram[None])

    def _start(self, params: Params, dj: DataJacobian) -> tuple[LMState, Hyper, LeastSquares]:
        theta = flatten(params)
        r, _ = dj.data.residuals(theta)
        beta = self.n / max(float(r @ r), 1e-300)
        hyper = self._hyper(np.full(self.G, ALPHA_START), beta)
        problem = self._problem(hyper, dj)
        return lm_init(problem, theta), hyper, problem

    def _iterate(
        self, state: LMState, hyper: Hyper, dj: DataJacobian, gamma: float
    ) -> tuple[LMState, Hyper, LeastSquares, bayes.Evidence, float]:
        """One evidence update then one LM step at the new precisions; returns the new state, precisions and
        problem, the evidence, and how much changed (gamma relative to itself, beta in log, the objective
        relative)."""
        ev = self._evidence(state, hyper, dj)
        old = (hyper.beta, state.cost / hyper.beta)
        beta = float(ev.beta[0])  # one beta while training (see posterior)
        hyper = self._hyper(ev.alpha, beta)
        problem = self._problem(hyper, dj)
        state = lm_step(problem, self._restate(state, hyper), GEODESIC)
        total = float(ev.gamma.sum())
        change = max(
            abs(total - gamma) / max(total, 1.0) if np.isfinite(gamma) else np.inf,
            abs(np.log(beta / old[0])),
            abs(state.cost / beta - old[1]) / max(old[1], 1e-300),
        )
        return state, hyper, problem, ev, change

    def _sq_errors(self, r: np.ndarray) -> np.ndarray:
        """Each output's sum of squared residuals (K,), from the raveled (N, K) residuals r."""
        return np.sum(r.reshape(-1, self.K) ** 2, axis=0)

    def _mse(self, state: LMState) -> float:
        r = state.aux[1]
        return float(r @ r) / self.n

    def _log(self, hyper: Hyper, gamma: float) -> None:
        self.trace.append((np.array(hyper.alpha), float(hyper.beta), float(gamma)))

    # --- the epochs -----------------------------------------------------------------------

    def epochs(self) -> Iterator[Epoch]:
        """Yield the untrained network, then one epoch per LM step (see the module doc)."""
        s = self.s
        like = init_params(self.sizes, seed=self.rng, activation=s.activation)
        if s.regularization == "l2":
            yield from self._fixed(like)
            return
        screen = screening_budget(SCREEN_STEPS, s.epochs, s.restarts + 1) if s.restarts else 0
        candidates = [like] + [
            init_params(self.sizes, seed=self.rng, activation=s.activation)
            for _ in range(1, s.restarts + 1 if screen else 1)
        ]
        dj = self._data_jacobian(like)
        state, hyper, problem = self._start(like, dj)
        self._log(hyper, float("nan"))
        yield Epoch(like, None, SCREEN if screen else WARMUP)
        used = 0
        if screen:
            best: tuple | None = None
            for c, params in enumerate(candidates):
                free = FREE_STEPS if c % 2 == 0 or not ALTERNATE else 0
                dj = self._data_jacobian(like)
                state, hyper, problem = self._start(params, dj)
                gamma = float("nan")
                for i in range(screen):
                    if i < free:
                        state = lm_step(problem, state, GEODESIC)
                    else:
                        state, hyper, problem, ev, _ = self._iterate(state, hyper, dj, gamma)
                        gamma = float(ev.gamma.sum())
                    used += 1
                    self._log(hyper, gamma)
                    yield Epoch(unflatten_unchecked(state.theta, like), self._mse(state), SCREEN)
                score = self._evidence(state, hyper, dj).log_evidence + bayes.symmetry(self.sizes)
                if best is None or (np.isfinite(score) and score > best[0]):
                    best = (score, state, hyper, problem, dj)
            assert best is not None
            _, state, hyper, problem, dj = best
        left = max(s.epochs - used - 1, 0)
        mode_steps = min(MODE_STEPS, left // 2)  # a small budget is shared: half still updates the precisions
        settled, budget, gamma = 0, left - mode_steps, float("nan")
        free = 0 if screen else min(FREE_STEPS, budget // 2)
        for i in range(max(budget, 0)):
            if i < free:
                state, change = lm_step(problem, state, GEODESIC), np.inf
            else:
                state, hyper, problem, ev, change = self._iterate(state, hyper, dj, gamma)
                gamma = float(ev.gamma.sum())
            self._log(hyper, gamma)
            yield Epoch(unflatten_unchecked(state.theta, like), self._mse(state), WARMUP)
            settled = settled + 1 if change < SETTLED else 0
            if settled >= SETTLED_TIMES:
                break
        yield from self._to_mode(state, hyper, problem, like, max(mode_steps, 1))

    def _fixed(self, like: Params) -> Iterator[Epoch]:
        hyper = self._hyper(np.full(self.G, L2_DECAY), 1.0)
        problem = self._problem(hyper, self._data_jacobian(like))
        state = lm_init(problem, flatten(like))
        self._log(hyper, float("nan"))
        yield Epoch(like, None, WARMUP)
        yield from self._to_mode(state, hyper, problem, like, steps=max(self.s.epochs - 2, 1))

    def _to_mode(self, state: LMState, hyper: Hyper, problem: LeastSquares, like: Params, steps: int = MODE_STEPS):
        """LM with the precisions frozen until it converges; the minimum is yielded once, as converged."""
        gamma = self.trace[-1][2]
        for _ in range(steps):
            before = state.cost
            state = lm_step(problem, state, GEODESIC)
            if state.converged or before - state.cost <= MODE_TOL * before:
                break
            self._log(hyper, gamma)
            yield Epoch(unflatten_unchecked(state.theta, like), self._mse(state), WARMUP)
        self.hyper = hyper
        self._log(hyper, gamma)
        yield Epoch(unflatten_unchecked(state.theta, like), self._mse(state), CONVERGED)

    # --- what the kept parameters leave ---------------------------------------------------------

    def posterior(self, params: Params) -> bayes.Evidence:
        """The evidence at ``params`` (the kept ones) with the last precisions: gamma, the re-estimated noise
        precisions (K,) and the covariance A^-1 (P, P) at those re-estimated precisions.

        Training weighs every output by one beta, on targets scaled column by column: an output's own beta
        would climb to its bound where that output is fitted exactly (a constant column), and its weight
        would then swamp the others' fit. Here, at the kept parameters and alphas, each output's beta goes
        to its own fixed point (at most ``NOISE_STEPS`` updates), so that its noise level and error bars
        follow its own noise."""
        hyper = self.hyper or self._hyper(np.full(self.G, ALPHA_START), 1.0)
        theta = flatten(params)
        dj = self._data_jacobian(params)
        r, evaluation = dj.data.residuals(theta)
        J = dj(theta, evaluation)
        ev = bayes.evidence_update(J, theta, r @ r, self.n, hyper.alpha, hyper.beta, self.groups)
        alpha = L2_DECAY * np.full(self.G, ev.beta[0]) if self.s.regularization == "l2" else ev.alpha
        sq, beta, grams = r @ r, ev.beta, None
        if self.K > 1:  # each output's J_k^T J_k once, for every update
            sq, beta = self._sq_errors(r), np.full(self.K, ev.beta[0])
            grams = bayes.output_grams(J, self.K)
        for _ in range(NOISE_STEPS if self.K > 1 else 0):
            new = bayes.evidence_update(J, theta, sq, self.n, alpha, beta, self.groups, grams).beta
            free = new < bayes.BETA_RANGE[1]  # an output fitted exactly stays at the bound
            settled = not np.any(free) or np.max(np.abs(np.log(new[free] / beta[free]))) < NOISE_TOL
            beta = new
            if settled:
                break
        again = bayes.evidence_update(J, theta, sq, self.n, alpha, beta, self.groups, grams)
        return again._replace(alpha=alpha, beta=beta)

    def finish(self, params: Params, record: TrainingRecord, scaler: Scaler) -> tuple[TrainingRecord, Posterior]:
        """The record with its :class:`EvidenceRecord`, and the model's :class:`Posterior` (error bars)."""
        ev = self.posterior(params)
        E = len(record.history.epoch)
        trace = self.trace[:E]
        evidence = EvidenceRecord(
            self.s.regularization,
            float(ev.gamma.sum()),
            int(len(self.groups)),
            tuple(float(v) for v in np.sqrt(1.0 / ev.beta) * scaler.y_scale),
            tuple(float(a) for a in ev.alpha),
            tuple(float(b) for b in ev.beta),
            float(ev.log_evidence),
            np.array([t[0] for t in trace]).reshape(len(trace), self.G),
            np.array([t[1] for t in trace]),
            np.array([t[2] for t in trace]),
        )
        record = dataclasses.replace(record, evidence=evidence)
        return record, Posterior(1.0 / ev.beta, ev.covariance)


def run_regularised(
    data: Data,
    rng: np.random.Generator,
    s: TrainSettings,
    callback: Callback | None,
    scaler: Scaler,
    **fields: Unpack[RecordFields],
) -> Trained:
    """One regularised run (:class:`BayesRun`) to its end, with its evidence and posterior; a run the loop
    found stalled comes back marked so (a near-constant may be the answer: the caller judges it). ``fields``
    (val_rows, domain, settings) go into the record."""
    bayes = BayesRun(data, (data.X.shape[1], *s.hidden, data.Y.shape[1]), rng, s)
    stalled = False
    try:
        params, record = run(bayes.epochs(), data, s, callback, **fields)
    except TrainingStalled as exc:  # little to fit: a near-constant is the answer, unless worse than the mean
        params, record, stalled = exc.params, exc.record, True
    record, posterior = bayes.finish(params, record, scaler)
    return Trained(params, record, posterior, stalled)
