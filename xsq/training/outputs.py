"""The output unit and the targets: what each unit can produce, how targets are scaled for it, and which
unit ``output="auto"`` picks.

=========  ===============  ==============================================
output     produces         targets scaled by (with scaling on)
=========  ===============  ==============================================
softplus   (0, inf)         their rms only, never shifted: must be > 0
relu       [0, inf)         their rms only, never shifted: must be >= 0
sigmoid    (0, 1)           [min, max] mapped onto [0.1, 0.9]: any targets
tanh       (-1, 1)          [min, max] mapped onto [-0.8, 0.8]: any targets
identity   (-inf, inf)      centred and divided by their std: any targets
=========  ===============  ==============================================

Without scaling, the raw targets themselves must lie in the range. Either
way, :func:`check_reachable` refuses targets the unit cannot produce before
any training, naming identity instead.
"""

from __future__ import annotations

import numpy as np

from ..core.activations import ACTIVATIONS
from ..errors import InputError
from .scaling import Scaler

MARGIN = 0.1  # a bounded unit's scaled targets keep this share of its range clear at each end
ZERO_SLOPE = 300.0  # |d log(target) / dx| times the span above which targets fall towards 0 (choose_output)
# one input: positive targets whose largest is less than NARROW times their smallest get identity (choose_output):
# softplus buys nothing there that a centred identity output lacks, and identity trains by variable projection
NARROW = 100.0


def scaler_for(X: np.ndarray, Y: np.ndarray, output: str) -> Scaler:
    """The scaling of X (N, n_in) and Y (N, n_out) that suits ``output`` (see the module docstring)."""
    low, high = ACTIVATIONS[output].produces[:2]
    if np.isfinite(high - low):
        margin = MARGIN * (high - low)
        return Scaler.fit(X, Y, onto=(low + margin, high - margin))
    return Scaler.fit(X, Y, centre_targets=bool(np.isinf(low)))  # a unit of any sign: centred targets


def _describe(output: str) -> str:
    low, high, low_in, high_in = ACTIVATIONS[output].produces
    if np.isfinite(high):
        return f"values in {'[' if low_in else '('}{low:g}, {high:g}{']' if high_in else ')'}"
    return f"values {'>=' if low_in else '>'} {low:g}"


def check_reachable(Y: np.ndarray, Ys: np.ndarray, output: str) -> None:
    """Refuse targets the output unit cannot produce: Ys (N, n_out) as the network sees them, the raw Y named
    in the message (scaling never changes whether a target is reachable, only how far it is)."""
    low, high, low_in, high_in = ACTIVATIONS[output].produces
    if np.any(Ys < low if low_in else Ys <= low):
        worst = f"the smallest target is {np.min(Y):.6g}"
    elif np.any(Ys > high if high_in else Ys >= high):
        worst = f"the largest target is {np.max(Y):.6g} (unscaled)"
    else:
        return
    raise InputError(
        f"a {output} output can only produce {_describe(output)}, but {worst}; "
        "use output 'identity' (--output identity) for these targets"
    )


def log_slope_at_smallest(X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
    """Where the smallest target is, and how steeply log(target) falls towards it: |d log y / dx| between it
    and its nearest inputs either side, times the inputs' span (one input and one output column; else 0)."""
    if X.ndim != 2 or X.shape[1] != 1 or Y.ndim != 2 or Y.shape[1] != 1 or len(X) < 2:
        return float("nan"), 0.0
    order = np.argsort(X[:, 0], kind="stable")
    x, y = X[order, 0], Y[order, 0]
    i = int(np.argmin(y))
    slopes = [abs(np.log(y[j] / y[i])) / abs(x[j] - x[i]) for j in (i - 1, i + 1) if 0 <= j < len(x) and x[j] != x[i]]
    return float(x[i]), max(slopes, default=0.0) * float(x[-1] - x[0])


def choose_output(
    Y: np.ndarray,
    also: np.ndarray | None = None,
    where: str = "",
    X: np.ndarray | None = None,
    projectable: bool = False,
    regularization: str = "none",
) -> tuple[str, str]:
    """The output ``"auto"`` picks for targets Y, and why: softplus when every target is > 0, the fit is not
    Bayesian (``regularization``) and, with one input X, the targets do not fall steeply towards 0 and, where an
    identity output would train by variable projection (``projectable``:
    :func:`xsq.training.separable.would_train`), span a factor of ``NARROW`` or more; identity otherwise.
    ``also``: other values the model will be judged on (``where`` names them), held to the same rule.

    A Bayesian fit (``regularization="bayes"``, xsq's default for measured data) gets identity whatever the
    targets' sign. Measured with ``scripts/bench_measured.py`` (5-fold CV R², softplus against identity in the
    folds whose training targets are all positive): on seven draws of friedman1 identity predicts better on
    every one, by 0.0033 to 0.0069, where softplus was more than 0.005 behind the GP on five of them; diabetes
    and two noisy curves are the same within 0.0003; three draws of friedman3 lose 0.0017 to 0.0142. Other
    regularizations keep the rules below, measured on noise-free targets.

    With the inputs X (one input column), targets that fall towards 0 at some input (log(target) steeper
    there than ``ZERO_SLOPE`` over the span, as for log(x + 1) or x^2 on [0.001, 2]) get identity too:
    softplus would have to produce log(target), which the hidden units cannot follow into its singularity
    (measured: RMSE/range 1e-5 against 1e-10). x^2 on [1, 100], where the slope is 160-194, keeps softplus.

    With one input, ``projectable``, positive targets that do not span ``NARROW`` (their largest below 100 times
    their smallest) get identity as well: there softplus adds nothing a centred identity output lacks, and an
    identity output trains by variable projection (:mod:`xsq.training.separable`). Measured (the default
    settings, 1,000 inputs; ``scripts/precision_suite.py``'s way, seeds 0 / 1), RMSE/range against softplus:
    the Runge peak 1 / (1 + 25 x^2) on [-1, 1] 1.3e-9 / 8.0e-10 (16 units; 5.8e-11 / 6.3e-11 once a wider second
    network grows, :mod:`xsq.training.wider`) against 7.6e-10 / 1.3e-8 (one stage; with three,
    4.5e-14 / 1.6e-14 against 3.7e-16 / 5.6e-16), exp(-x^2) on [-2, 2] 4.1e-11 / 6.0e-11 against 2.9e-9 / 1.2e-8.
    Elsewhere (a few rows, relative_mse: no variable projection) the two were mixed, and softplus stays.
    Targets spanning orders of magnitude keep softplus, x^2 on [1, 100] (the question's problem) among them.
    """
    if len(Y) == 0:
        return "identity", "there are no targets"
    also = None if also is None else np.asarray(also, dtype=float)
    if not np.all(Y > 0):
        return "identity", f"some targets are <= 0 (the smallest is {np.min(Y):.6g}), which softplus cannot produce"
    if also is not None and not np.all(also > 0):
        return "identity", f"{where} reaches {np.min(also):g}, which softplus cannot produce"
    if regularization == "bayes":
        return "identity", (
            "every target is > 0, but regularization is bayes: identity mostly predicts measured data better"
        )
    if X is not None:
        X, Y = (np.asarray(A, dtype=float) for A in (X, Y))
        X, Y = X.reshape(len(X), -1), Y.reshape(len(Y), -1)
        at, slope = log_slope_at_smallest(X, Y)
        if slope > ZERO_SLOPE:
            return "identity", (
                f"the targets fall towards 0 near x = {at:.6g} (there log(target) has slope {slope:.3g} per span of "
                f"the inputs, above {ZERO_SLOPE:g}), which softplus cannot follow"
            )
        values = Y.ravel() if also is None else np.concatenate([Y.ravel(), also.ravel()])
        span = float(np.max(values) / np.min(values)) if projectable and X.shape[1] == Y.shape[1] == 1 else np.inf
        if span < NARROW:
            within = (
                f"within {100 * (span - 1):.2g} % of each other" if span < 1.01 else f"within a factor of {span:.3g}"
            )
            return "identity", (
                f"every target is > 0 but {within} (less than {NARROW:g}): an identity output, its output layer "
                "solved at every step, fits them closer"
            )
    return "softplus", "every target is > 0"
