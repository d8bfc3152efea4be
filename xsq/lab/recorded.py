"""The question's run recorded frame by frame, beside two fixes: what ``xsq diagnose --animate`` draws.

:func:`recorded_runs` reruns the question's SGD (:mod:`xsq.lab.question`) as
posted, with xsq's stable formulas, and on scaled data, and keeps each
network's output on x = 1..100 at the :func:`frame_steps`: spaced by log
while the question's run climbs, then every step around the one where it
goes non-finite. Where and in which operation a run failed is taken from
:func:`xsq.lab.question.run` itself, so the animation says what the report says.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..data.metrics import rmse_over_range
from ..training.scaling import Scaler
from . import question as q


class Recorded(NamedTuple):
    """One run of the question's network: a title, the steps taken at each frame (frames,), the network's
    raw-scale outputs on x = 1..100 there (frames, 100), their RMSE over the range of x^2 (NaN where not
    finite), and the step and operation where it went non-finite (None if it never did)."""

    title: str
    steps: np.ndarray
    outputs: np.ndarray
    errors: np.ndarray
    nonfinite_step: int | None
    nonfinite_op: str | None


def frame_steps(steps: int, failed: int | None, n: int = 40, close: int = 6) -> np.ndarray:
    """The step counts to draw: about ``n`` spaced by log up to ``close`` steps before ``failed`` (the
    question's run's first non-finite step, None if it never failed), every step from there to just past
    it, and a few more by log up to ``steps``. Sorted, unique, within 0..steps."""
    end = steps if failed is None else max(failed + 1 - close, 1)
    out = [np.round(np.geomspace(1, end + 1, n) - 1).astype(int)]
    if failed is not None:
        out.append(np.arange(end, min(failed + 2, steps) + 1))
        out.append(np.round(np.geomspace(min(failed + 2, steps), steps, 8)).astype(int))
    return np.unique(np.concatenate(out))


def _outputs(params: dict, X, fns: q.Formulas, scale) -> np.ndarray:
    """The network's output (raw scale) at inputs X (n, 1) given on the scale it trains on."""
    y = q.predict(params, X, fns)
    return (y if scale is None else scale.outputs(y))[:, 0]


def recorded_runs(steps: int = q.STEPS, seed: int = 0) -> list[Recorded]:
    """The question's run, then the same with xsq's stable formulas, then with scaled data, recorded at the
    same :func:`frame_steps` (those of the question's run, which the others go on past)."""
    grid = np.arange(q.LOW, q.HIGH + 1, dtype=float)[:, None]
    scaler = Scaler.fit(grid, grid**2)
    runs: list[tuple[str, q.Formulas, Scaler | None]] = [("the question's run", q.NAIVE, None)]
    runs += [("stable formulas", q.STABLE, None), ("scaled data", q.NAIVE, scaler)]
    question = q.run(steps, seed)
    at = frame_steps(steps, question.first_nonfinite_step)
    wanted, out = set(at.tolist()), []
    for title, fns, scale in runs:
        rng = np.random.default_rng(seed)  # the draws q.run makes: the same start and the same inputs
        params = q.init(rng)
        xs = rng.integers(q.LOW, q.HIGH + 1, size=steps).astype(float)
        X = grid if scale is None else scale.inputs(grid)
        outputs, finite = [], True
        with np.errstate(all="ignore"):
            for taken in range(int(at[-1]) + 1):
                if taken in wanted:
                    outputs.append(_outputs(params, X, fns, scale))
                if taken < steps:
                    x = np.array([[xs[taken]]])
                    Xs, Ys = (x, x * x) if scale is None else (scale.inputs(x), scale.targets(x * x))
                    params, loss, _ = q.step(params, Xs, Ys, q.LR, fns)
                    finite = finite and bool(np.isfinite(loss))
        # where it failed, and in which operation, as the report names them (q.run watches every value)
        facts = question if fns is q.NAIVE and scale is None else None
        if facts is None and not finite:
            facts = q.run(steps, seed, scale=scale, fns=fns)
        y = grid[:, 0] ** 2
        errors = np.array([rmse_over_range(o, y) if np.all(np.isfinite(o)) else np.nan for o in outputs])
        failed = (facts.first_nonfinite_step, facts.first_nonfinite_op) if facts else (None, None)
        out.append(Recorded(title, at, np.array(outputs), errors, *failed))
    return out
