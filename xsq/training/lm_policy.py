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

A network whose output layer is linear in its weights (one hidden layer, identity output, mse:
:func:`xsq.training.separable.applies`) runs :func:`separable_epochs` instead: its candidates start
from spread hidden units and are screened by variable projection, the best goes on by variable
projection, and LM over every parameter finishes (there is no relative-error warm-up on this path).
On the polynomials, trigonometric sums and damped oscillations of ``scripts/precision_suite.py``, LM over
every parameter from small random weights stops at RMSE/range 3e-10 to 1.4e-7; this path reaches 9e-11 to
2.6e-9 in the same budget.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import NamedTuple

import numpy as np

from ..core import fastpath, losses, net
from ..core import jacobian as jac
from ..core.params import Params, flatten, init_params, layer_sizes, unflatten_unchecked
from . import separable
from .epochs import Data, Epoch, screening_budget
from .lm import LeastSquares, LMState, lm_init, lm_step
from .record import CONVERGED, RUNNING, SCREEN, WARMUP
from .settings import TrainSettings

SCREEN_STEPS = 30  # LM steps given to each candidate initialisation in each screening round
SCREEN_FINALISTS = 2  # the best candidates of the first round get SCREEN_STEPS more before the best is kept
WARMUP_FRACTION = 0.4  # share of the steps after screening spent on relative error (positive targets, mse)
SEPARABLE_FRACTION = 0.4  # at most this share of the steps after screening runs variable projection (linear output)
# the variable projection steps after screening skip geodesic acceleration: with it the suite's worst cell was
# no better (measured with scripts/precision_suite.py) and each step costs one more projection
SEPARABLE_GEODESIC = False


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


def _screened(
    problem: LeastSquares,
    states: list[LMState],
    steps: int,
    view: Callable[[LMState], tuple[np.ndarray, np.ndarray]],
    like: Params,
    data: Data,
    s: TrainSettings,
) -> Generator[Epoch, None, tuple[LMState, int]]:
    """Screen candidate LM states: each gets ``steps`` steps, the ``SCREEN_FINALISTS`` with the lowest validation
    loss as many again, and the lower of those is returned with the steps used. ``view(state)`` gives a state's
    flat network parameters (the layout of ``like``) and the network's output on the training inputs (N, 1)."""
    X_score, Y_score = (data.X_val, data.Y_val) if len(data.X_val) else (data.X, data.Y)
    loss, used = losses.LOSSES[s.loss].fn, 0
    for keep in (len(states), min(SCREEN_FINALISTS, len(states) - 1)):
        scored = []
        for i, state in enumerate(states[:keep]):
            for _ in range(steps):
                if state.converged:
                    break
                state = lm_step(problem, state)
                used += 1
                theta, output = view(state)
                yield Epoch(unflatten_unchecked(theta, like), float(loss(output, data.Y)), SCREEN)
            prediction = net.forward(unflatten_unchecked(view(state)[0], like), X_score, s.activation, s.output)
            score = float(loss(prediction, Y_score))
            scored.append((score if np.isfinite(score) else np.inf, i, state))
        if scored:
            states = [state for _, _, state in sorted(scored, key=lambda t: t[:2])]
    return states[0], used


def lm_epochs(
    data: Data, sizes: tuple[int, ...], rng: np.random.Generator, s: TrainSettings, start: Params | None = None
) -> Iterator[Epoch]:
    """Yield the untrained network, then the parameters after each accepted LM step (see the module doc).

    ``start``: the parameters to begin from, instead of a random initialisation (no screening then).
    """
    if start is None and separable.applies(sizes, s.activation, s.output, s.loss, len(data.X)):
        yield from separable_epochs(data, sizes, rng, s)
        return
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
        states = [lm_init(begin, flatten(params)) for params in candidates]
        state, used = yield from _screened(begin, states, screen, lambda st: (st.theta, st.aux.output), like, data, s)

    for _ in range(int(round(WARMUP_FRACTION * (s.epochs - used))) if warm else 0):
        state = lm_step(begin, state)
        yield Epoch(unflatten_unchecked(state.theta, like), float(losses.LOSSES[loss].fn(state.aux.output, Y)), WARMUP)
        if state.converged:  # nothing more to gain from the warm-up loss
            break
    if warm:
        state = lm_init(main, state.theta, state.damping)
    yield from _run_proper(main, state, like, Y.size)


def _run_proper(main: LeastSquares, state: LMState, like: Params, n: int) -> Iterator[Epoch]:
    """LM on the chosen loss from ``state``, until the loop stops it."""
    while True:
        state = lm_step(main, state)
        yield Epoch(unflatten_unchecked(state.theta, like), state.cost / n, CONVERGED if state.converged else RUNNING)


def separable_epochs(
    data: Data, sizes: tuple[int, ...], rng: np.random.Generator, s: TrainSettings, start: np.ndarray | None = None
) -> Iterator[Epoch]:
    """The epochs of a network whose output layer is linear (:func:`xsq.training.separable.applies`).

    The candidates start from spread hidden units and are screened, and the best is trained on, by variable
    projection for up to ``SEPARABLE_FRACTION`` of the steps left or until it converges; LM over every
    parameter then runs from there. The variable projection steps after screening are a warm-up (phase
    ``"warmup"``: no patience, their best only a fallback), as a plateau there must not end the run before
    LM over every parameter has had its steps; ``applies`` asks for enough rows per parameter that the
    least-squares minimum they head for is not the data's noise. ``start``: hidden weights theta_h
    ((n_in + 1) H,) to begin from instead, with no screening (a network grown from another:
    :mod:`xsq.training.wider`).
    """
    X, Y = data.X, data.Y
    n_in, hidden = sizes[0], sizes[1]
    like = {"W1": np.zeros((n_in, hidden)), "b1": np.zeros(hidden), "W2": np.zeros((hidden, 1)), "b2": np.zeros(1)}
    projected = separable.Separable(X, Y.ravel(), hidden, s.activation)
    problem = projected.problem()
    if start is None:
        screen = screen_steps(s)
        starts = separable.spread_inits(X, hidden, s.activation, rng, s.restarts + 1 if screen else 1)
    else:
        screen, starts = 0, [start]
    states = [lm_init(problem, theta_h) for theta_h in starts]

    def view(state: LMState) -> tuple[np.ndarray, np.ndarray]:
        return state.aux.theta, state.aux.passes.o[:, None]

    untrained = np.concatenate([states[0].theta, np.zeros(hidden + 1)])  # spread units, no output layer yet
    yield Epoch(unflatten_unchecked(untrained, like), None, SCREEN if screen else RUNNING)
    state, used = states[0], 0
    if screen:
        state, used = yield from _screened(problem, states, screen, view, like, data, s)
    for _ in range(int(round(SEPARABLE_FRACTION * (s.epochs - used)))):
        state = lm_step(problem, state, SEPARABLE_GEODESIC)
        if state.converged:  # no step of the hidden layer lowers the error any more
            break
        theta, output = view(state)
        yield Epoch(unflatten_unchecked(theta, like), float(losses.LOSSES[s.loss].fn(output, Y)), WARMUP)
    main = least_squares(X, Y, s.activation, s.output, s.loss, like)
    yield from _run_proper(main, lm_init(main, view(state)[0]), like, Y.size)
