"""What happened while a model was trained: a record built once, at the end of training.

It is longer than 250 lines because the record and each of its parts (history, stages, evidence) are read
back from a model file as untrusted input, field by field, and that checking lives beside each part.

:class:`TrainingRecord` is kept apart from the :class:`xsq.Model` (which holds
only what prediction needs) and is saved and loaded with it. Its fields:

* ``history``: per epoch (epoch 0 is the untrained network), the training
  and validation losses on the scaled targets and the phase: ``"screen"``
  (Levenberg-Marquardt screening other initialisations), ``"warmup"`` (LM on
  the relative error first, variable projection with a linear output layer, or the evidence
  iterations of ``regularization="bayes"``), ``"running"`` or ``"converged"``;
* ``best_epoch``, ``best_loss``: the epoch whose parameters were kept, and
  its validation loss (training loss without a validation set);
* ``n_epochs``: epochs run; ``seconds``: training wall time;
* ``converged``: LM found no step that lowers the cost any more;
  ``interrupted``: stopped by Ctrl-C; ``stopped``: stopped by the callback;
* ``start_loss``: epoch 0's training loss; ``baseline_loss``: the training
  loss of the best constant prediction (what "did not learn" is judged against);
* ``val_rows``: the rows of the training data held out for validation;
* ``domain``: per input, the (lowest, highest) value trained on (beyond it, a
  prediction is extrapolation);
* ``settings``: the training settings, as plain values;
* ``stages``: for a staged fit, one :class:`StageRecord` per stage tried;
* ``widths``: for a fit whose first network fell short (or, on a Bayesian fit, left structure in its
  residuals) and that tried a wider one (:mod:`xsq.training.wider`), one :class:`WidthRecord` per network
  trained, in order;
* ``evidence``: for a regularised fit, an :class:`EvidenceRecord` (gamma, the
  noise level, and alpha, beta and gamma per epoch);
* ``inputs``, ``outputs``: the names of the data file's columns it was trained
  on (``xsq train --data``), so that ``xsq predict --data`` reads the same
  columns; empty when the data had no names.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..core.activations import ACTIVATIONS
from ..errors import InputError
from ..validation import Constraint, Flag, Maybe, Options, Real, Sizes, Text, Whole, names_problem

SCREEN, WARMUP, RUNNING, CONVERGED = PHASES = ("screen", "warmup", "running", "converged")


class ReadOnlyDict(dict):
    """A dict that refuses to change (and still pickles, unlike ``types.MappingProxyType``)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a training record cannot be changed")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self):
        return ReadOnlyDict, (dict(self),)


def frozen(array) -> np.ndarray:
    """A read-only copy of ``array``."""
    out = np.array(array)
    out.setflags(write=False)
    return out


class History(NamedTuple):
    """One entry per epoch, as read-only arrays."""

    epoch: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    phase: np.ndarray

    @classmethod
    def of(cls, rows: list[tuple[int, float, float, str]]) -> History:
        """From (epoch, train loss, validation loss, phase) rows."""
        cols: list = list(zip(*rows)) if rows else [[], [], [], []]
        return cls(
            frozen(np.asarray(cols[0], dtype=int)),
            frozen(np.asarray(cols[1], dtype=float)),
            frozen(np.asarray(cols[2], dtype=float)),
            frozen(np.asarray(cols[3], dtype="<U9")),
        )


def checked(fields: Any, table: dict[str, Constraint], what: str) -> dict[str, Any]:
    """``fields`` read back from a file, which must be a dict of exactly ``table``'s keys, each value checked
    against its constraint; an :class:`InputError` names ``what`` and the field that is wrong."""
    if not isinstance(fields, dict) or set(fields) != set(table):
        raise InputError(f"{what} must have exactly: " + ", ".join(table))
    return {k: rule.check(fields[k], f"{what}'s {k}") for k, rule in table.items()}


@dataclass(frozen=True)
class StageRecord:
    """One later stage of a staged fit: what it was, and what it did to the validation error.

    ``kind`` is "tangent", "derivatives" or "network"; the validation error is the (weighted,
    see :mod:`xsq.training.staged_fit`) root mean square error on the scaled targets
    before and after the stage; ``kept`` is whether it lowered it.
    """

    stage: int
    kind: str
    activation: str
    hidden: tuple[int, ...]
    kept: bool
    val_error_before: float
    val_error_after: float
    epochs: int
    seconds: float
    note: str = ""

    @classmethod
    def from_plain(cls, fields: Any) -> StageRecord:
        """A stage record from its JSON fields, each checked against ``STAGE_FIELDS``."""
        return cls(**checked(fields, STAGE_FIELDS, "a stage record"))


@dataclass(frozen=True)
class WidthRecord:
    """One network a fit trained for its first stage when it tried a wider one (:mod:`xsq.training.wider`).

    ``hidden``: its width; ``val_rmse_over_range``: its validation RMSE over the range of the training targets
    (NaN when it failed or was stopped before it learnt, and on every Bayesian fit, which chooses by evidence);
    ``epochs`` and ``seconds`` it ran; ``kept``: whether the model is this network; ``note``: why it failed or
    that it was cut short ("" otherwise); on a Bayesian fit, ``log_evidence`` and ``gamma`` (the effective
    number of parameters) at its kept parameters, and ``neighbour_z``, how far its residuals at neighbouring
    inputs are correlated (NaN where not measured).
    """

    hidden: int
    val_rmse_over_range: float
    epochs: int
    seconds: float
    kept: bool
    note: str = ""
    log_evidence: float = math.nan
    neighbour_z: float = math.nan
    gamma: float = math.nan

    def __post_init__(self):
        checked(self.to_plain(), WIDTH_FIELDS, "a width record")  # a record made in code holds what a file may

    def to_plain(self) -> dict[str, Any]:
        """The record as JSON-ready fields, NaN (nothing reached, or not measured) as None."""
        return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_plain(cls, fields: Any) -> WidthRecord:
        """A width record from its JSON fields, each checked against ``WIDTH_FIELDS`` (null: NaN; files written
        before Bayesian fits tried wider networks have none of ``BAYES_WIDTH_FIELDS``)."""
        if isinstance(fields, dict) and not set(BAYES_WIDTH_FIELDS) & set(fields):
            fields = {**fields, **dict.fromkeys(BAYES_WIDTH_FIELDS)}
        values: dict[str, Any] = {
            k: math.nan if v is None else v for k, v in checked(fields, WIDTH_FIELDS, "a width record").items()
        }
        return cls(**values)


def widths_problem(widths: tuple[WidthRecord, ...], regularization: str | None) -> str:
    """What is wrong with a training record's width records, "" if nothing: a fit that tried a wider network
    (:mod:`xsq.training.wider`) records exactly two networks and keeps one, which reached a validation error
    (unregularised) or a log evidence (``regularization`` "bayes", the record's evidence's); an l2 fit never
    tries one."""
    if not widths:
        return ""
    if not all(isinstance(w, WidthRecord) for w in widths):
        return "are not width records"
    if regularization == "l2":
        return "are there, but an l2 fit never tries a wider network"
    if len(widths) != 2 or [w.kept for w in widths].count(True) != 1:
        return "are not two networks of which one was kept"
    measured = (getattr(w, k) for w in widths for k in BAYES_WIDTH_FIELDS)
    if regularization is None and any(math.isfinite(v) for v in measured):
        return "hold what the evidence measures (log evidence, gamma, neighbour z), but the fit has no evidence"
    if widths[1].hidden <= widths[0].hidden:
        return "do not hold a second network wider than the first"
    score, what = ("log_evidence", "log evidence") if regularization else ("val_rmse_over_range", "validation error")
    kept, other = (widths[0], widths[1]) if widths[0].kept else (widths[1], widths[0])
    if not math.isfinite(getattr(kept, score)):
        return f"keep a network that reached no {what}"
    if regularization and kept.note:
        return "keep a network that did not run to its end (its evidence does not compare)"
    if regularization and not other.note and math.isfinite(other.log_evidence):
        if kept.log_evidence < other.log_evidence or (kept.log_evidence == other.log_evidence and kept is widths[1]):
            return "keep the network of the lower log evidence"  # (on a tie, the first)
    if not regularization and kept.val_rmse_over_range > other.val_rmse_over_range:  # (NaN compares False)
        return "keep the network of the higher validation error"  # ties: the losses chosen by may differ below it
    return ""


@dataclass(frozen=True)
class EvidenceRecord:
    """What the evidence said about a regularised fit (see :mod:`xsq.training.bayes`).

    ``gamma``: the effective number of parameters, of ``n_params``; ``noise_level``: the noise's standard
    deviation estimated from beta, per output, in the targets' units; ``alpha`` (G,) and ``beta`` (K,): the
    precisions at the kept parameters (on the scaled targets), beta one per output (files written before
    that hold one); ``log_evidence``; per epoch (aligned with the history): ``history_alpha`` (E, G),
    ``history_beta`` (E,; training weighs every output by one beta), ``history_gamma`` (E,; NaN before the
    first update).
    """

    regularization: str
    gamma: float
    n_params: int
    noise_level: tuple[float, ...]
    alpha: tuple[float, ...]
    beta: tuple[float, ...]
    log_evidence: float
    history_alpha: np.ndarray
    history_beta: np.ndarray
    history_gamma: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "beta", tuple(float(b) for b in np.atleast_1d(self.beta)))  # a number: one output
        for name, ndim in (("history_alpha", 2), ("history_beta", 1), ("history_gamma", 1)):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.ndim != ndim:
                raise InputError(f"its evidence {name} must be {ndim}-D")
            object.__setattr__(self, name, frozen(value))
        E = {len(self.history_alpha), len(self.history_beta), len(self.history_gamma)}
        if len(E) != 1 or self.history_alpha.shape[1] != len(self.alpha):
            raise InputError("its evidence history columns differ in length")
        if len(self.beta) not in (1, len(self.noise_level)):
            raise InputError("its evidence record's beta and noise levels differ in their outputs")
        if not all(np.all(np.isfinite(h) & (h > 0)) for h in (self.history_alpha, self.history_beta)):
            raise InputError("its evidence history's precisions (alpha, beta) are not all positive numbers")
        gamma = self.history_gamma[~np.isnan(self.history_gamma)]  # NaN: an epoch before the first update
        if np.any(~np.isfinite(gamma) | (gamma < 0) | (gamma > self.n_params)):
            raise InputError("its evidence history's gamma is not between 0 and its number of parameters")

    ARRAYS = ("history_alpha", "history_beta", "history_gamma")

    def to_plain(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays (``evidence_history_*``) and a JSON-ready dict of the rest."""
        arrays = {f"evidence_{k}": getattr(self, k) for k in self.ARRAYS}
        fields = {k: getattr(self, k) for k in EVIDENCE_FIELDS}
        beta = self.beta[0] if len(self.beta) == 1 else list(self.beta)  # one output: a number, as it always was
        return arrays, dict(fields, noise_level=list(self.noise_level), alpha=list(self.alpha), beta=beta)

    @classmethod
    def from_plain(cls, fields: Any, arrays: dict[str, np.ndarray]) -> EvidenceRecord:
        """Read back as untrusted input: every field checked, an :class:`InputError` names what is wrong."""
        if not isinstance(fields, dict) or set(fields) != {*EVIDENCE_FIELDS, "noise_level", "alpha", "beta"}:
            raise InputError(
                "its evidence record must have exactly: "
                + ", ".join(sorted({*EVIDENCE_FIELDS, "noise_level", "alpha", "beta"}))
            )
        if not all(f"evidence_{k}" in arrays for k in cls.ARRAYS):
            raise InputError("its evidence record has no history")
        nums = {k: rule.check(fields[k], f"its evidence record's {k}") for k, rule in EVIDENCE_FIELDS.items()}
        lists = {}
        for k in ("noise_level", "alpha", "beta"):
            v = [fields[k]] if k == "beta" and not isinstance(fields[k], list) else fields[k]  # older files: one
            # a noise level in the targets' units may underflow to 0 (targets of 1e-320): the precisions may not
            rule, kind = (Real(0), "non-negative") if k == "noise_level" else (Real(0, low_open=True), "positive")
            if not (isinstance(v, list) and v and all(rule.ok(x) is not None for x in v)):
                raise InputError(f"its evidence record's {k} is not a list of {kind} numbers")
            lists[k] = tuple(float(x) for x in v)
        if nums["gamma"] > nums["n_params"]:
            raise InputError("its evidence record's gamma exceeds its number of parameters")
        return cls(**nums, **lists, **{k: arrays[f"evidence_{k}"] for k in cls.ARRAYS})  # type: ignore[arg-type]


@dataclass(frozen=True)
class TrainingRecord:
    """See the module docstring for every field."""

    history: History
    best_epoch: int
    best_loss: float
    n_epochs: int
    converged: bool
    interrupted: bool
    stopped: bool
    seconds: float
    start_loss: float
    baseline_loss: float
    val_rows: np.ndarray
    domain: tuple[tuple[float, float], ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)
    stages: tuple[StageRecord, ...] = ()
    evidence: EvidenceRecord | None = None
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    widths: tuple[WidthRecord, ...] = ()

    def __post_init__(self):
        for kind in ("inputs", "outputs"):
            if problem := names_problem(getattr(self, kind)):
                raise InputError(f"its training record's {kind} {problem}")
            object.__setattr__(self, kind, tuple(getattr(self, kind)))
        object.__setattr__(self, "val_rows", frozen(np.asarray(self.val_rows, dtype=int)))
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in self.settings.items()}  # read-only too
        object.__setattr__(self, "settings", ReadOnlyDict(settings))
        object.__setattr__(self, "widths", tuple(self.widths))
        if problem := widths_problem(self.widths, None if self.evidence is None else self.evidence.regularization):
            raise InputError(f"its training record's widths {problem}")
        kept = [w for w in self.widths if w.kept]
        ev = self.evidence
        if kept and ev is not None and (kept[0].log_evidence, kept[0].gamma) != (ev.log_evidence, ev.gamma):
            raise InputError("its training record's widths keep a network whose log evidence or gamma is not its own")

    # --- as plain data, for the model file (read back as untrusted input) ---------------

    def to_plain(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """The record as arrays (history, validation rows) and a JSON-ready dict (the rest)."""
        h = self.history
        arrays = {
            "history_epoch": h.epoch,
            "history_train_loss": h.train_loss,
            "history_val_loss": h.val_loss,
            "history_phase": h.phase,
            "val_rows": np.asarray(self.val_rows, dtype=np.int64),
        }
        fields = {k: getattr(self, k) for k in SCALARS}  # NaN (no validation set) is written as null
        stages = [dict(s.__dict__, hidden=list(s.hidden)) for s in self.stages]
        plain = dict(fields, domain=[list(p) for p in self.domain], settings=dict(self.settings), stages=stages)
        plain.update(inputs=list(self.inputs), outputs=list(self.outputs))
        if self.widths:  # only then: files without it read as they always did
            plain["widths"] = [w.to_plain() for w in self.widths]
        if self.evidence is not None:
            evidence_arrays, plain["evidence"] = self.evidence.to_plain()
            arrays.update(evidence_arrays)
        return arrays, plain

    @classmethod
    def from_plain(cls, fields: Any, arrays: dict[str, np.ndarray]) -> TrainingRecord:
        """The record from :meth:`to_plain`'s parts, checked; an :class:`InputError` says what is wrong."""
        if not isinstance(fields, dict) or not {*SCALARS, "domain", "settings"} <= set(fields):
            raise InputError("its training record is not a mapping of the expected fields")
        if not isinstance(fields["settings"], dict) or not all(k in arrays for k in HISTORY_MEMBERS):
            raise InputError("its training record has no settings or no history")
        h = History(*(arrays[k] for k in HISTORY_MEMBERS[:4]))
        if len({len(v) for v in h}) != 1 or any(v.ndim != 1 for v in h) or arrays["val_rows"].ndim != 1:
            raise InputError("its history columns differ in length")
        if not set(h.phase.tolist()) <= set(PHASES):
            raise InputError("its history names an unknown phase")
        try:
            domain = fields["domain"]
            pairs = isinstance(domain, list) and all(isinstance(p, list) and len(p) == 2 for p in domain)
            numbers = pairs and all(Real().ok(v) is not None for p in domain for v in p)
            if not (numbers and all(low <= high for low, high in domain)):
                raise InputError(
                    "its training domain is not a list of [low, high] pairs of finite numbers, low <= high"
                )
            nums = {k: rule.check(fields[k], f"its training record's {k}") for k, rule in SCALARS.items()}
            if nums["best_epoch"] > nums["n_epochs"]:
                raise InputError("its training record's best epoch comes after its last")
            stages = tuple(StageRecord.from_plain(s) for s in fields.get("stages", []))
            widths = fields.get("widths", [])
            if not isinstance(widths, list) or len(widths) not in (0, 2):
                raise InputError("its training record's widths is not a list of 2 width records")
            widths = tuple(WidthRecord.from_plain(w) for w in widths)
            evidence = fields.get("evidence")
            evidence = None if evidence is None else EvidenceRecord.from_plain(evidence, arrays)
            if evidence is not None and len(evidence.history_beta) != len(h.epoch):
                raise InputError("its evidence history and its history differ in length")
            return cls(  # type: ignore[call-arg]  # the scalars in field order, from the table
                History.of(list(zip(*h))),
                *(math.nan if v is None else v for v in nums.values()),  # type: ignore[arg-type]
                arrays["val_rows"],
                tuple(map(tuple, domain)),
                fields["settings"],
                stages,
                evidence,
                fields.get("inputs", []),  # files written before names hold none; checked as the record is made
                fields.get("outputs", []),
                widths,
            )
        except InputError:
            raise
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise InputError(f"its training record is malformed ({exc})") from None


# what a later stage can be (xsq.training.stages.STAGE_KINDS holds each)
STAGE_KIND_NAMES = ("network", "tangent", "derivatives")
STAGE_FIELDS = {  # a stage record's fields, and what each must be when read back
    "stage": Whole(1),
    "kind": Options(STAGE_KIND_NAMES),
    "activation": Options(tuple(ACTIVATIONS)),
    "hidden": Sizes(0),
    "kept": Flag(),
    "val_error_before": Real(0),
    "val_error_after": Real(0),
    "epochs": Whole(0),
    "seconds": Real(0),
    "note": Text(1000),
}
SCALARS = {  # the record's single values, and what each must be when read back
    "best_epoch": Whole(0),
    "best_loss": Maybe(Real()),
    "n_epochs": Whole(0),
    "converged": Flag(),
    "interrupted": Flag(),
    "stopped": Flag(),
    "seconds": Maybe(Real(0)),
    "start_loss": Maybe(Real()),
    "baseline_loss": Maybe(Real()),
}
WIDTH_FIELDS = {  # a width record's fields, and what each must be when read back
    "hidden": Whole(1, 10**6),
    "val_rmse_over_range": Maybe(Real(0)),
    "epochs": Whole(0),
    "seconds": Real(0),
    "kept": Flag(),
    "note": Text(1000),
    "log_evidence": Maybe(Real()),
    "neighbour_z": Maybe(Real()),
    "gamma": Maybe(Real(0)),
}
BAYES_WIDTH_FIELDS = ("log_evidence", "neighbour_z", "gamma")  # what a Bayesian fit's width records add
EVIDENCE_FIELDS = {  # an evidence record's single values, and what each must be when read back
    "regularization": Options(("l2", "bayes")),
    "gamma": Real(0),
    "n_params": Whole(1),
    "log_evidence": Real(),
}
EVIDENCE_MEMBERS = ("evidence_history_alpha", "evidence_history_beta", "evidence_history_gamma")
HISTORY_MEMBERS = ("history_epoch", "history_train_loss", "history_val_loss", "history_phase", "val_rows")
