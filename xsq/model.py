"""A trained model: parameters, the scaling they were trained with, and history.

Saved as a ``.npz`` of plain arrays (no pickles): the parameters ``W1 ... bk``,
the scaling ``x_mean``, ``x_std``, ``y_scale`` and a JSON string of settings.
Files are written atomically (a temporary file in the same folder, then a
rename) and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as onp

from .network import check_data, check_params, forward

FORMAT = "xsq-model-1"
SETTINGS = ("activation", "output", "loss", "optimizer", "seed")


@dataclass
class Model:
    """A network plus the affine scaling that maps raw data to what it was trained on.

    ``predict`` takes raw inputs (N, n0) and returns raw-scale outputs (N, nk):
    inputs are standardised with ``x_mean`` and ``x_std``; outputs are
    multiplied by ``y_scale`` (targets were only divided, never shifted, so a
    softplus output can reach every positive target).
    """

    params: dict
    x_mean: onp.ndarray
    x_std: onp.ndarray
    y_scale: onp.ndarray
    activation: str = "sigmoid"
    output: str = "softplus"
    loss: str = "mse"
    optimizer: str = "lm"
    seed: int | None = 0
    # per epoch: losses on scaled targets, and the phase ("warmup", "running" or "converged")
    history: dict = field(default_factory=lambda: {"epoch": [], "train_loss": [], "val_loss": [], "phase": []})
    best_loss: float = float("nan")
    best_epoch: int = 0
    n_epochs: int = 0
    interrupted: bool = False
    converged: bool = False
    train_seconds: float = 0.0
    val_index: onp.ndarray = field(default_factory=lambda: onp.zeros(0, dtype=int))  # rows held out (not saved)

    @property
    def sizes(self) -> tuple[int, ...]:
        return check_params(self.params)

    def predict(self, X) -> onp.ndarray:
        """Raw-scale outputs for raw inputs X of shape (N, n0)."""
        X = check_data(X, sizes=self.sizes)
        return forward(self.params, (X - self.x_mean) / self.x_std, self.activation, self.output) * self.y_scale

    def save(self, path: str | os.PathLike) -> None:
        """Write the model to ``path`` (.npz) atomically: nothing half-written is ever left there."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        settings = {key: getattr(self, key) for key in SETTINGS}
        settings.update(format=FORMAT, sizes=list(self.sizes), best_loss=self.best_loss,
                        n_epochs=self.n_epochs, interrupted=self.interrupted)
        arrays = dict(self.params, x_mean=self.x_mean, x_std=self.x_std, y_scale=self.y_scale,
                      settings=onp.array(json.dumps(settings)))
        fd, tmp = tempfile.mkstemp(prefix=".model-", suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                onp.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def load_model(path: str | os.PathLike) -> Model:
    """Read a model written by :meth:`Model.save`; a ValueError names what is wrong with the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"model file {path!r} does not exist")
    with open(path, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            raise ValueError(f"cannot read model file {path!r}: it is not a valid .npz archive (no zip header)")
    try:
        data = onp.load(path, allow_pickle=False)
        if not isinstance(data, onp.lib.npyio.NpzFile):
            raise ValueError("a single array, not an .npz archive")
        with data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        reason = "it holds pickled objects" if "pickle" in str(exc) else "it is not a valid .npz archive"
        raise ValueError(f"cannot read model file {path!r}: {reason}") from None
    try:
        settings = json.loads(str(arrays.pop("settings")))
        if settings.get("format") != FORMAT:
            raise ValueError(f"format {settings.get('format')!r} is not {FORMAT!r}")
        x_mean, x_std, y_scale = (onp.asarray(arrays.pop(k), dtype=float) for k in ("x_mean", "x_std", "y_scale"))
        params = {k: onp.asarray(v, dtype=float) for k, v in arrays.items()}
        sizes = check_params(params)
        if not all(onp.all(onp.isfinite(v)) for v in (*params.values(), x_mean, x_std, y_scale)):
            raise ValueError("it holds NaN or inf")
        if list(sizes) != settings["sizes"] or x_mean.shape != (sizes[0],) or x_std.shape != (sizes[0],) \
                or y_scale.shape != (sizes[-1],):
            raise ValueError("its arrays do not match the layer sizes it records")
        model = Model(params, x_mean, x_std, y_scale, **{k: settings[k] for k in SETTINGS})
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"model file {path!r} is not a valid xsq model: {exc}") from None
    model.best_loss = settings.get("best_loss", float("nan"))
    model.n_epochs = settings.get("n_epochs", 0)
    model.interrupted = settings.get("interrupted", False)
    return model
