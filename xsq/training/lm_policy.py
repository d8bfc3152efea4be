"""How xsq trains a network with Levenberg-Marquardt: the least-squares problem, restarts, and a warm-up.

:func:`lm_epochs` is the epoch iterator for ``optimizer="lm"`` (one accepted
LM step per epoch; the step itself is :func:`xsq.training.lm.lm_step`):

1. **Screening.** With ``restarts`` = r, the first initialisation and r
   others get ``SCREEN_STEPS`` steps each; the ``SCREEN_FINALISTS`` (2) with
   the lowest validation loss get as many steps again, and the lower of
   those goes on (fewer steps when the epoch budget is small: at most half
   of it goes to screening). These steps count against ``epochs``. One round
   of 40 steps ranked too early: on sin(3x) cos(x) and sin(x) + 0.5 cos(2x)
   it kept candidates that stalled at RMSE/range 1e-6 and 5e-6, where two
   rounds of 30 (210 steps in all, against 200) reach 6e-9 and 3e-9
   (``scripts/precision_suite.py``).
2. **Warm-up.** With mse on positive targets, the first ``WARMUP_FRACTION``
   of the remaining steps minimise the relative error instead (a
   continuation): weighting every target alike pins down the small-target
   end of the domain, which plain mse leaves poorly determined, and the mse
   steps that follow converge far faster from there.
3. **The run proper** on the chosen loss, until the loop stops it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from ..core import fastpath, losses, net
from ..core import jacobian as jac
from ..core.params import Params, flatten, init_params, layer_sizes, unflatten_unchecked
from .epochs import Data, Epoch, screening_budget
from .lm import LeastSquares, lm_init, lm_step
from .record import CONVERGED, RUNNING, SCREEN, WARMUP
from .settings import TrainSettings

SCREEN_STEPS = 30  # LM steps given to each candidate initialisation in each screening round
SCREEN_FINALISTS = 2  # the best candidates of the first round get SCREEN_STEPS more before the best is kept
WARMUP_FRACTION = 0.4  # share of the steps after screening spent on relative error (positive targets, mse)


class Evaluation(NamedTuple):
    """What one residual evaluation leaves for the Jacobian: the network's output (N, n_out) and its pass."""

    output: np.ndarray
    passes: net.Passes | fastpath.Pass


def least_squares(X, Y, activation: str, output: str, loss: str, like: Params) -> LeastSquares:
    """The network's weighted residuals ``w * (f(X; theta) - Y)`` (flattened) and their Jacobian.

    A network with one hidden layer runs :mod:`xsq.core.fastpath` (the same numbers, fewer allocations).
    """
    weigh = losses.LOSSES[loss].weight
    assert weigh is not None  # LM takes least-squares losses only (settings refuse the others)
    weights: np.ndarray | None = weigh(Y).ravel()
    if np.all(weights == 1.0):
        weights = None  # plain mse: skip the multiplications
    sizes = layer_sizes(like)
    y = Y.ravel()

    if fastpath.supports(sizes, activation, output):
        fast = fastpath.OneHidden(X, sizes[1], activation, output)

        def fast_residuals(theta):
            p = fast.forward(theta)
            r = p.o - y
            return (r if weights is None else weights * r), Evaluation(p.o[:, None], p)

        def fast_jacobian(theta, aux: Evaluation):
            J = fast.jacobian(theta, aux.passes)  # type: ignore[arg-type]  # a fast residual's pass
            return J if weights is None else weights[:, None] * J

        return LeastSquares(fast_residuals, fast_jacobian)

    def residuals(theta):
        passes = net.forward_pass(unflatten_unchecked(theta, like), X, activation, output)
        r = (passes.As[-1] - Y).ravel()
        return (r if weights is None else weights * r), Evaluation(passes.As[-1], passes)

    def jacobian(theta, aux: Evaluation):
        J = jac.jacobian(unflatten_unchecked(theta, like), X, activation, output, aux.passes)  # type: ignore[arg-type]
        return J if weights is None else weights[:, None] * J

    return LeastSquares(residuals, jacobian)


def screen_steps(s: TrainSettings) -> int:
    """Steps per screened candidate and round (every candidate, then the finalists again); 0 without restarts."""
    finalists = min(SCREEN_FINALISTS, s.restarts)
    return screening_budget(SCREEN_STEPS, s.epochs, s.restarts + 1 + finalists) if s.restarts else 0


def lm_epochs(
    data: Data, sizes: tuple[int, ...], rng: np.random.Generator, s: TrainSettings, start: Params | None = None
) -> Iterator[Epoch]:
    """Yield the untrained network, then the parameters after each accepted LM step (see the module doc).

    ``start``: the parameters to begin from, instead of a random initialisation (no screening then).
    """
    X, Y, loss = data.X, data.Y, s.loss
    like = init_params(sizes, seed=rng, activation=s.activation) if start is None else start
    main = least_squares(X, Y, s.activation, s.output, loss, like)
    warm = loss == "mse" and bool(np.all(Y > 0))
    begin = least_squares(X, Y, s.activation, s.output, "relative_mse", like) if warm else main
    screen = screen_steps(s) if start is None else 0
    candidates = [like] + [
        init_params(sizes, seed=rng, activation=s.activation) for _ in range(s.restarts if screen else 0)
    ]
    yield Epoch(like, None, SCREEN if screen else RUNNING)

    state = lm_init(begin, flatten(like))
    used = 0
    if screen:
        X_score, Y_score = (data.X_val, data.Y_val) if len(data.X_val) else (X, Y)
        states = [lm_init(begin, flatten(params)) for params in candidates]
        for keep in (len(states), min(SCREEN_FINALISTS, len(states) - 1)):
            scored = []
            for i, state in enumerate(states[:keep]):
                for _ in range(screen):
                    if state.converged:
                        break
                    state = lm_step(begin, state)
                    used += 1
                    output = state.aux.output
                    yield Epoch(
                        unflatten_unchecked(state.theta, like), float(losses.LOSSES[loss].fn(output, Y)), SCREEN
                    )
                prediction = net.forward(unflatten_unchecked(state.theta, like), X_score, s.activation, s.output)
                score = float(losses.LOSSES[loss].fn(prediction, Y_score))
                scored.append((score if np.isfinite(score) else np.inf, i, state))
            if scored:
                states = [state for _, _, state in sorted(scored, key=lambda t: t[:2])]
        state = states[0]

    for _ in range(int(round(WARMUP_FRACTION * (s.epochs - used))) if warm else 0):
        state = lm_step(begin, state)
        yield Epoch(unflatten_unchecked(state.theta, like), float(losses.LOSSES[loss].fn(state.aux.output, Y)), WARMUP)
        if state.converged:  # nothing more to gain from the warm-up loss
            break
    if warm:
        state = lm_init(main, state.theta, state.damping)
    n = Y.size
    while True:
        state = lm_step(main, state)
        yield Epoch(unflatten_unchecked(state.theta, like), state.cost / n, CONVERGED if state.converged else RUNNING)
