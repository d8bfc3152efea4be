"""Training settings: one declarative table, validated in one place for :func:`xsq.fit` and the CLI.

``SETTINGS`` maps each setting to its constraint, default, help text and the
optimizers it applies to. :func:`resolve` checks every value against it,
refuses a setting given for an optimizer it does not apply to, fills the
per-optimizer defaults (``PER_OPTIMIZER``) for those left as None, and
returns a frozen :class:`TrainSettings`. ``xsq train`` builds its options
from the same table.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..core import activations, losses, net
from ..errors import InputError
from ..validation import Constraint, Flag, Maybe, Options, Real, Seed, Sizes, Whole
from .optimizers import GRADIENT_OPTIMIZERS

OPTIMIZERS = ("lm", *GRADIENT_OPTIMIZERS)
REGULARIZATIONS = ("none", "l2", "bayes")
VAL_FRACTION = 0.15  # held out for early stopping when there is no regularization
# defaults of the settings left as None under a regularization (measured data: every row trains)
PER_REGULARIZATION: dict[str, dict[str, Any]] = {
    "none": dict(val_fraction=VAL_FRACTION, hidden=(16,)),
    "l2": dict(val_fraction=0.0, hidden=(16,)),
    "bayes": dict(val_fraction=0.0, hidden=(8,), restarts=3),
}
GRADIENT = tuple(GRADIENT_OPTIMIZERS)
REGULARIZED: dict[str, Any] = {"optimizer": "lm", "loss": "mse", "stages": 1}  # what a regularised fit needs

# defaults of the settings left as None, per optimizer (LM counts its restart screening in its epochs)
PER_OPTIMIZER: dict[str, dict[str, Any]] = {
    "lm": dict(epochs=1300, patience=200, tol=1e-10, restarts=4),
    "adam": dict(epochs=10000, patience=1000, tol=1e-10, lr=0.01, grad="autograd"),
    "momentum": dict(epochs=3000, patience=500, tol=1e-10, lr=0.01, grad="autograd"),
    "sgd": dict(epochs=3000, patience=500, tol=1e-10, lr=0.05, grad="autograd"),
}


@dataclass(frozen=True)
class Setting:
    """One setting: what it must be, its default, what it does, which optimizers it applies to."""

    constraint: Constraint
    default: Any
    help: str
    optimizers: tuple[str, ...] = OPTIMIZERS


SETTINGS: dict[str, Setting] = {
    "hidden": Setting(
        Maybe(Sizes(1, 10**6)),  # at least one hidden layer: the network is input -> hidden -> output
        None,
        "hidden layer sizes (default: {}, grown to 24 as well when a 16-unit fit by variable projection ends "
        "just short of the precision xsq aims at; {} with bayes, grown to 12 as well when its residuals at "
        "neighbouring inputs are correlated or it uses nearly all its parameters)".format(
            *(",".join(map(str, PER_REGULARIZATION[r]["hidden"])) for r in ("none", "bayes"))
        ),
    ),
    "activation": Setting(Options(tuple(activations.ACTIVATIONS)), "sigmoid", "hidden units"),
    "output": Setting(
        Options(("auto", *activations.ACTIVATIONS)),
        "auto",
        "output unit; auto: softplus for targets all > 0 (with one input, on --target's defaults: spanning a factor of "
        "100 or more; never with regularization bayes), else identity",
    ),
    "loss": Setting(Options(tuple(losses.LOSSES)), "mse", "training loss"),
    "optimizer": Setting(Options(OPTIMIZERS), "lm", "lm is Levenberg-Marquardt"),
    "epochs": Setting(Maybe(Whole(1, 10**9)), None, "most epochs (for lm: steps, restart screening included)"),
    "lr": Setting(Maybe(Real(0, low_open=True)), None, "learning rate", GRADIENT),
    "batch_size": Setting(Maybe(Whole(1)), None, "mini-batch size (default: the whole training set)", GRADIENT),
    "grad": Setting(
        Maybe(Options(tuple(net.GRADIENTS))), None, "gradient: autograd's or the hand-written backprop", GRADIENT
    ),
    "restarts": Setting(Maybe(Whole(0)), None, "other initialisations screened before the main run", ("lm",)),
    "regularization": Setting(
        Options(REGULARIZATIONS),
        "none",
        "bayes: weight decay and noise level re-estimated from the evidence (error bars too); l2: fixed weight decay "
        "on every parameter, biases too (not the l2 of xsq.objective)",
        (REGULARIZED["optimizer"],),
    ),
    "val_fraction": Setting(
        Maybe(Real(0, 1, high_open=True)),
        None,
        f"share of the data held out for early stopping (default: {VAL_FRACTION:g}; 0 with regularization)",
    ),
    "patience": Setting(Maybe(Whole(1)), None, "epochs without improvement before stopping"),
    "tol": Setting(Maybe(Real(0)), None, "relative improvement that counts for patience"),
    "stages": Setting(
        Whole(1, 20), 1, "stages: each later one fits what the ones before left (see xsq.training.staged_fit)", ("lm",)
    ),
    "scale": Setting(Flag(), True, "standardise inputs and scale targets for the output unit (xsq.training.outputs)"),
    "seed": Setting(Seed(), 0, "every random choice comes from it"),
}


@dataclass(frozen=True)
class TrainSettings:
    """Every training setting, checked and with its defaults filled in (see ``SETTINGS``)."""

    hidden: tuple[int, ...]
    activation: str
    output: str
    loss: str
    optimizer: str
    epochs: int
    lr: float | None
    batch_size: int | None
    grad: str | None
    restarts: int
    val_fraction: float
    patience: int
    tol: float
    stages: int
    scale: bool
    seed: int | np.random.Generator
    regularization: str = "none"  # last, with a default: settings built without resolve (xsq.lab.sweep) need none

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values (a generator seed is recorded as None)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["hidden"] = list(self.hidden)
        out["seed"] = self.seed if isinstance(self.seed, numbers.Integral) else None
        return out


def defaults_text(name: str) -> str:
    """The per-optimizer defaults of a setting, e.g. 'lm 1300, adam 10000, ...', or the one value they share
    (for help texts)."""
    values = {opt: d[name] for opt, d in PER_OPTIMIZER.items() if name in d}
    if len(set(values.values())) == 1:
        return str(next(iter(values.values())))
    return ", ".join(f"{opt} {value}" for opt, value in values.items())


def measured_regularization(**given: Any) -> str:
    """The regularization measured data get when none is given (``xsq train --data``, ``XsqRegressor``):
    "bayes" wherever it applies (lm on mse, one stage: measured data have noise), else "none". ``given``:
    settings by name (optimizer, loss, stages); a missing one takes its default."""
    applies = all(given.get(name, SETTINGS[name].default) == value for name, value in REGULARIZED.items())
    return "bayes" if applies else "none"


def resolve(spell: Callable[[str], str] = str, **given: Any) -> TrainSettings:
    """Check ``given`` against ``SETTINGS`` and fill in the defaults; an :class:`InputError` names what is wrong.

    ``spell`` turns a setting's name into how the caller wrote it (the CLI: ``lr`` -> ``--lr``).
    """
    unknown = sorted(set(given) - set(SETTINGS))
    if unknown:
        raise InputError(f"unknown setting {unknown[0]!r}; expected some of: {', '.join(SETTINGS)}")
    values = {name: s.constraint.check(given.get(name, s.default), spell(name)) for name, s in SETTINGS.items()}
    optimizer = values["optimizer"]
    for name, s in SETTINGS.items():
        if optimizer not in s.optimizers and name in given and values[name] != s.default:
            raise InputError(f"{spell(name)} applies only to optimizer {', '.join(s.optimizers)}, not {optimizer!r}")
    for name, default in [*PER_REGULARIZATION[values["regularization"]].items(), *PER_OPTIMIZER[optimizer].items()]:
        if values[name] is None:
            values[name] = default
    if values["regularization"] != "none":
        if values["loss"] != REGULARIZED["loss"] or values["stages"] != REGULARIZED["stages"]:
            raise InputError(
                f"{spell('regularization')} {values['regularization']!r} needs loss {REGULARIZED['loss']!r} "
                f"(Gaussian noise) and {REGULARIZED['stages']} stage, not loss {values['loss']!r} and "
                f"{values['stages']} stage{'s' * (values['stages'] != 1)}"
            )
    if optimizer == "lm":
        least_squares = [name for name, loss in losses.LOSSES.items() if loss.weight is not None]
        if losses.LOSSES[values["loss"]].weight is None:
            raise InputError(
                f"optimizer 'lm' needs a least-squares loss ({', '.join(least_squares)}), not "
                f"{values['loss']!r}; use adam, momentum or sgd for it"
            )
    else:
        values["restarts"] = 0
    return TrainSettings(**values)
