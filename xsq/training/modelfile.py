"""The model file: an .npz of plain arrays plus one JSON string, written atomically, read as untrusted input.

Members (each a ``.npy``):

* ``W1 ... bk``: the first network; ``s2_params_W1 ...`` (a network stage),
  ``s2_out_W1 ...`` and ``s2_pre_W1 ...`` (a tangent stage) or ``s2_coef`` (a
  derivative stage): stage 2, and so on;
* ``x_mean``, ``x_std``, ``y_shift``, ``y_scale``: the scaling;
* ``history_epoch``, ``history_train_loss``, ``history_val_loss``,
  ``history_phase``, ``val_rows``: the training record's arrays;
* ``evidence_history_alpha``, ``evidence_history_beta``, ``evidence_history_gamma``:
  a regularised fit's evidence per epoch; ``posterior_covariance`` (P, P): what
  its error bars need (with ``meta["posterior"]["noise_variance"]``);
* ``meta``: a JSON string with the format, the activation and output names,
  each stage's kind and settings, the posterior's noise variances and the
  training record's other fields (layer sizes come from the arrays' shapes).

:func:`read` trusts nothing in the file. Before any array is read it checks
the file is a regular file of sane size, a zip of the expected members only,
and that every member's ``.npy`` header declares an expected dtype (never an
object or pickle) and a size that matches the bytes stored. Then it checks
the JSON, the names, the shapes, that every value is finite and that every
scale is positive. Any problem is an :class:`InputError` naming it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import re
import zipfile
import zlib
from typing import Any, NamedTuple

import numpy as np
from numpy.lib import format as npy

from ..core import activations
from ..core.params import check_params
from ..errors import InputError
from ..files import as_path, json_bytes, regular_file, write_atomic
from ..validation import Options
from .record import EVIDENCE_MEMBERS, HISTORY_MEMBERS, TrainingRecord
from .scaling import Scaler

FORMAT = "xsq-model-2"
MAX_FILE_BYTES = 1 << 30  # 1 GiB: far beyond any network xsq trains
MAX_META_CHARS = 1 << 20
MAX_EXPANSION, FREE_EXPANSION = 100, 16 << 20  # a compressed member may expand 100 times, plus 16 MiB
SCALER = ("x_mean", "x_std", "y_shift", "y_scale")
_MEMBER = re.compile(r"^(?:s(\d{1,3})_(params|out|pre)_)?[Wb]\d{1,3}$")
STAGE_ARRAYS = {"network": ("params",), "tangent": ("out", "pre"), "derivatives": ()}  # params-shaped fields
STAGE_PLAIN = {"network": (), "tangent": (), "derivatives": ("coef",)}  # fields that are one plain array each
_PLAIN_MEMBER = re.compile(r"^s(\d{1,3})_(" + "|".join(name for names in STAGE_PLAIN.values() for name in names) + ")$")
STAGE_META = {
    "network": {"kind", "activation", "output", "scale"},
    "tangent": {"kind", "scale"},
    "derivatives": {"kind", "order", "scale"},
}


class Parts(NamedTuple):
    """Everything a model file holds; ``stages`` are (kind, constructor fields) pairs (:mod:`xsq.training.stages`)."""

    params: dict
    scaler: Scaler
    activation: str
    output: str
    record: TrainingRecord | None
    stages: tuple
    posterior: tuple[Any, np.ndarray] | None = None  # (noise variance(s) (K,), covariance (P, P)), scaled targets


def stage_parts(stage) -> tuple[str, dict]:
    """A stage as (kind, its fields by name)."""
    return stage.kind, {f.name: getattr(stage, f.name) for f in dataclasses.fields(stage)}


def write(path: str | os.PathLike, parts: Parts) -> None:
    """Write ``parts`` to ``path`` atomically (see :func:`xsq.files.write_atomic`)."""
    arrays = dict(parts.params, **parts.scaler.arrays())
    stages = []
    for i, (kind, fields) in enumerate(parts.stages, start=2):
        for name in STAGE_ARRAYS[kind]:
            arrays.update({f"s{i}_{name}_{k}": v for k, v in fields[name].items()})
        arrays.update({f"s{i}_{name}": fields[name] for name in STAGE_PLAIN[kind]})
        stored = (*STAGE_ARRAYS[kind], *STAGE_PLAIN[kind])
        stages.append({"kind": kind, **{k: v for k, v in fields.items() if k not in stored}})
    meta: dict[str, Any] = {
        "format": FORMAT,
        "activation": parts.activation,
        "output": parts.output,
        "stages": stages,
        "record": None,
        "posterior": None,
    }
    if parts.posterior is not None:
        variances = [float(v) for v in np.reshape(parts.posterior[0], -1)]
        meta["posterior"] = {"noise_variance": variances[0] if len(variances) == 1 else variances}  # one: a number
        arrays["posterior_covariance"] = parts.posterior[1]
    if parts.record is not None:
        record_arrays, meta["record"] = parts.record.to_plain()
        arrays.update(record_arrays)
    arrays["meta"] = np.array(json_bytes(meta, indent=None).decode())
    write_atomic(path, lambda handle: np.savez(handle, **arrays))


# --- reading ----------------------------------------------------------------------


_KINDS = {"meta": "U", "history_phase": "U", "history_epoch": "i", "val_rows": "i"}  # every other member: "f"


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One member's array, after its header has been checked against what may be there."""
    name = info.filename[:-4]
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(f"member {info.filename} uses an unsupported compression")
    if info.file_size > MAX_FILE_BYTES:
        raise InputError(f"member {info.filename} declares {info.file_size} bytes")
    if info.file_size > MAX_EXPANSION * info.compress_size + FREE_EXPANSION:
        raise InputError(
            f"member {info.filename} expands from {info.compress_size} to {info.file_size} bytes, more than "
            f"{MAX_EXPANSION} times (no model's numbers compress that well)"
        )
    with archive.open(info) as raw:
        handle = io.BufferedReader(raw)  # type: ignore[type-var]  # a zip member reads as a raw stream
        version = npy.read_magic(handle)
        if version not in ((1, 0), (2, 0)):
            raise InputError(f"member {info.filename} has an unknown .npy version {version}")
        reader = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        try:
            shape, fortran, dtype = reader(handle)
        except Exception:  # the header is untrusted text, and numpy's parser fails in several ways on bad text
            raise InputError(f"member {info.filename} has an unreadable .npy header") from None
        kind = _KINDS.get(name, "f")
        if dtype.hasobject or dtype.kind != kind or (kind != "U" and dtype.itemsize != 8):
            raise InputError(f"member {info.filename} has dtype {dtype}, which no xsq model holds")
        count = math.prod(shape)
        if handle.tell() + count * dtype.itemsize != info.file_size:
            raise InputError(f"member {info.filename} declares shape {shape}, which does not match its size")
        data = bytearray(count * dtype.itemsize)  # read in place: no second copy of a large member
        if handle.readinto(data) != len(data):
            raise InputError(f"member {info.filename} ends before its data does")
        return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")


def _check_members(names: list[str], total: int) -> None:
    """Refuse, before any member is read, an archive whose member names or total size no model has."""
    if len(set(names)) != len(names) or not all(n.endswith(".npy") for n in names):
        raise InputError("its members are not one .npy per array")
    arrays = [n[:-4] for n in names]
    known = {"meta", *SCALER, *HISTORY_MEMBERS, *EVIDENCE_MEMBERS, "posterior_covariance"}
    extra = [k for k in arrays if k not in known and not _MEMBER.match(k) and not _PLAIN_MEMBER.match(k)]
    if extra:
        raise InputError(f"unexpected member {extra[0]}.npy")
    missing = [k for k in ("meta", *SCALER) if k not in arrays]
    if missing:
        raise InputError(f"member {missing[0]}.npy is missing")
    if total > MAX_FILE_BYTES:
        raise InputError(f"its members declare {total} bytes in all, more than any xsq model")


def _open(path: str) -> dict[str, np.ndarray]:
    regular_file(path, "model file", MAX_FILE_BYTES)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            _check_members([i.filename for i in infos], sum(i.file_size for i in infos))
            return {info.filename[:-4]: _read_member(archive, info) for info in infos}
    except InputError as exc:
        raise InputError(f"model file {path!r} is not a valid xsq model: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read model file {path!r}: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, NotImplementedError):
        raise InputError(f"cannot read model file {path!r}: it is not a valid .npz archive") from None


def _record_and_stages(meta: dict, arrays: dict) -> tuple[TrainingRecord | None, list]:
    """The training record (None if not saved) and the stages' metadata, each checked."""
    stages = meta.get("stages")
    if not isinstance(stages, list) or not all(isinstance(s, dict) for s in stages):
        raise InputError("its stages are not a list of mappings")
    for s in stages:
        Options(tuple(STAGE_ARRAYS)).check(s.get("kind"), "a stage's kind")
        if set(s) != STAGE_META[s["kind"]]:
            raise InputError(f"a {s['kind']} stage must record exactly: {', '.join(sorted(STAGE_META[s['kind']]))}")
    r = meta.get("record")
    if r is None:
        return None, stages
    return TrainingRecord.from_plain(r, arrays), stages


def _network(arrays: dict, prefix: str) -> dict:
    """The params dict stored under ``prefix`` ("" for the first network, "s2_out_" and the like for stages)."""
    found = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix) and _MEMBER.match(k)}
    if prefix == "":
        found = {k: v for k, v in found.items() if not k.startswith("s")}
    return check_params(found)


def _stage(arrays: dict, i: int, meta: dict) -> tuple[str, dict]:
    kind = meta["kind"]
    fields = {name: _network(arrays, f"s{i}_{name}_") for name in STAGE_ARRAYS[kind]}
    for name in STAGE_PLAIN[kind]:
        if f"s{i}_{name}" not in arrays:
            raise InputError(f"member s{i}_{name}.npy of its {kind} stage is missing")
        fields[name] = arrays[f"s{i}_{name}"]
    fields.update({k: v for k, v in meta.items() if k != "kind"})
    return kind, fields


def read(path: str | os.PathLike) -> Parts:
    """Read and validate a model file; an :class:`InputError` names what is wrong."""
    path = as_path(path)
    arrays = _open(path)
    try:
        text = arrays["meta"]
        if text.shape != () or len(str(text)) > MAX_META_CHARS:
            raise InputError("its meta member is not one JSON string")
        try:
            meta = json.loads(str(text))
        except (ValueError, RecursionError):
            raise InputError("its meta member is not valid JSON (or is nested too deeply)") from None
        if not isinstance(meta, dict):
            raise InputError("its meta member is not a mapping")
        if meta.get("format") != FORMAT:
            raise InputError(f"format {meta.get('format')!r} is not {FORMAT!r}")
        activation = activations.get(meta.get("activation")).name  # type: ignore[arg-type]  # any value: checked
        output = activations.get(meta.get("output"), "output").name  # type: ignore[arg-type]
        params = _network(arrays, "")
        record, stage_meta = _record_and_stages(meta, arrays)
        stages = tuple(_stage(arrays, i, s) for i, s in enumerate(stage_meta, start=2))
        listed = {
            (str(i), name)
            for i, (kind, _) in enumerate(stages, start=2)
            for name in (*STAGE_ARRAYS[kind], *STAGE_PLAIN[kind])
        }
        stored = ((m.group(1), m.group(2)) for k in arrays if (m := _MEMBER.match(k) or _PLAIN_MEMBER.match(k)))
        if any(i is not None and (i, name) not in listed for i, name in stored):
            raise InputError("it holds arrays of a stage it does not list")
        scaler = Scaler(*(arrays[k] for k in SCALER))
        posterior = _posterior(meta.get("posterior"), arrays)
    except InputError as exc:
        raise InputError(f"model file {path!r} is not a valid xsq model: {exc}") from None
    return Parts(params, scaler, activation, output, record, stages, posterior)


def _posterior(meta: Any, arrays: dict) -> tuple[Any, np.ndarray] | None:
    """The error bars' (noise variances, one per output or one for all as older files hold it, covariance), or
    None; the model checks their shapes."""
    if meta is None:
        if "posterior_covariance" in arrays:
            raise InputError("it holds a posterior covariance but no noise variance")
        return None
    if not isinstance(meta, dict) or set(meta) != {"noise_variance"} or "posterior_covariance" not in arrays:
        raise InputError("its posterior is not a noise variance with a covariance member")
    return meta["noise_variance"], arrays["posterior_covariance"]  # checked by the model's Posterior
