"""xsq's fit as a scikit-learn estimator: ``XsqRegressor`` in ``Pipeline``, ``GridSearchCV``, ``cross_val_score``.

Needs scikit-learn (``pip install 'xsq[sklearn]'``). The constructor takes
the settings of :func:`xsq.fit` (``random_state`` in place of ``seed``) and
stores them as given, as scikit-learn's conventions ask; ``fit`` checks them
through the same table (:mod:`xsq.training.settings`). What fitting produces is kept
in attributes with a trailing underscore:

* ``model_``: the trained, frozen :class:`xsq.Model`;
* ``n_iter_``: epochs run; ``loss_curve_``: training loss per epoch, the
  untrained network's first (``n_iter_ + 1`` entries);
  ``validation_scores_``: validation loss per epoch (on the scaled targets;
  NaN throughout when nothing is held out, as with bayes; lower is better,
  unlike scikit-learn's MLP, whose scores are R^2);
  ``best_loss_``: the loss the kept epoch was chosen by: its validation loss,
  or its training loss when nothing is held out;
* ``n_features_in_`` (and ``feature_names_in_`` for named columns);
* with ``regularization="bayes"`` (what the default ``"auto"`` picks for
  Levenberg-Marquardt on mse with one stage: measured data have noise),
  ``gamma_`` (the effective number of parameters the evidence found) and
  ``noise_level_`` (the noise's standard deviation, per output, in y's units);
  ``predict(X, return_std=True)`` returns error bars, as scikit-learn's
  ``GaussianProcessRegressor`` does.

A run that diverges raises :class:`xsq.TrainingDiverged`, as :func:`xsq.fit`
does. A run that did not learn (:class:`xsq.TrainingStalled` in :func:`xsq.fit`)
keeps what it learnt and warns with scikit-learn's ``ConvergenceWarning``,
as scikit-learn's own estimators do when they stop short. Data a network
cannot learn from (rows to train on whose inputs are all the same, say)
raise :class:`xsq.InputError`, a ``ValueError``.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from .errors import TrainingStalled
from .training.settings import measured_regularization
from .training.train import fit


class XsqRegressor(RegressorMixin, BaseEstimator):
    """A small network trained by xsq (Levenberg-Marquardt by default); see :func:`xsq.fit` for each setting.

    Two differ from ``fit``: ``random_state`` stands for ``seed``, and ``regularization="auto"`` (the
    default) is ``"bayes"`` for lm on mse with one stage and ``"none"`` otherwise. Fitting sets ``model_``
    (the :class:`xsq.Model`), ``n_iter_``, ``loss_curve_``, ``validation_scores_``, ``best_loss_``,
    ``n_features_in_`` and, with bayes, ``gamma_`` and ``noise_level_`` (see ``help(xsq.sklearn)``).
    """

    def __init__(
        self,
        hidden=None,
        activation="sigmoid",
        output="auto",
        loss="mse",
        optimizer="lm",
        epochs=None,
        lr=None,
        batch_size=None,
        val_fraction=None,
        patience=None,
        tol=None,
        grad=None,
        restarts=None,
        regularization="auto",
        stages=1,
        scale=True,
        random_state=0,
    ):
        self.hidden = hidden
        self.activation = activation
        self.output = output
        self.loss = loss
        self.optimizer = optimizer
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.val_fraction = val_fraction
        self.patience = patience
        self.tol = tol
        self.grad = grad
        self.restarts = restarts
        self.regularization = regularization
        self.stages = stages
        self.scale = scale
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # several outputs are one network's several output units
        return tags

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_outputs)."""
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=np.float64)
        seed = self.random_state if self.random_state is not None else 0
        if isinstance(seed, np.random.RandomState):  # scikit-learn's legacy generator: draw a seed from it
            seed = int(seed.randint(2**31))
        settings = self.get_params()
        del settings["random_state"]
        if settings["regularization"] == "auto":  # bayes wherever it applies: lm on mse, one stage
            settings["regularization"] = measured_regularization(**settings)
        try:
            self.model_ = fit(X, y, seed=seed, **settings)
        except TrainingStalled as exc:  # scikit-learn's way: keep what was learnt, and warn
            self.model_ = exc.model
            warnings.warn(f"xsq: {exc}", ConvergenceWarning, stacklevel=2)
        record = self.model_.record
        self.n_iter_ = record.n_epochs
        self.loss_curve_ = record.history.train_loss.tolist()
        self.validation_scores_ = record.history.val_loss.tolist()
        self.best_loss_ = record.best_loss
        if record.evidence is not None:
            self.gamma_ = record.evidence.gamma
            self.noise_level_ = np.array(record.evidence.noise_level)
        else:  # a refit without the evidence keeps none of an earlier fit's
            for name in ("gamma_", "noise_level_"):
                self.__dict__.pop(name, None)
        self._y_1d = np.ndim(y) == 1
        return self

    def predict(self, X, return_std=False):
        """Predictions, shaped (n_samples,) when fitted on a 1-D y, else (n_samples, n_outputs); with
        ``return_std``, (mean, std) of that shape (a model trained without regularization "bayes" or "l2"
        has no error bars and raises :class:`xsq.InputError`)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        out = self.model_.predict(X, return_std=return_std)
        if not return_std:
            return out[:, 0] if self._y_1d else out
        return tuple(v[:, 0] if self._y_1d else v for v in out)
