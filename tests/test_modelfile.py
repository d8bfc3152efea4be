"""Model files: exact round trips, and every kind of crafted file refused in one line before it is trusted."""

import io
import json
import os
import pickle
import stat
import zipfile

import numpy as np
import pytest

import xsq
from xsq.training.model import Model
from xsq.training.stages import DerivativeStage, NetworkStage, TangentStage, columns


@pytest.fixture(scope="module")
def small_model():
    x = np.linspace(1, 10, 60)
    return xsq.fit(x, x**2, hidden=4, epochs=40, restarts=1)


@pytest.fixture
def good(small_model, tmp_path):
    path = tmp_path / "good.npz"
    small_model.save(path)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def write(tmp_path, arrays, name="crafted.npz"):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def meta_with(arrays, **change):
    meta = json.loads(str(arrays["meta"]))
    meta.update(change)
    return dict(arrays, meta=np.array(json.dumps(meta)))


def test_round_trip_is_exact(small_model, tmp_path):
    path = tmp_path / "m.npz"
    small_model.save(path)
    loaded = xsq.load_model(path)
    assert all(np.array_equal(loaded.params[k], small_model.params[k]) for k in small_model.params)
    xs = np.linspace(0.5, 15, 101)
    assert np.array_equal(loaded.predict(xs), small_model.predict(xs))
    a, b = loaded.record, small_model.record
    assert all(np.array_equal(u, v) for u, v in zip(a.history, b.history))
    assert (a.best_epoch, a.n_epochs, a.settings, a.domain) == (b.best_epoch, b.n_epochs, b.settings, b.domain)
    assert np.array_equal(a.val_rows, b.val_rows) and a.seconds == b.seconds
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary left behind
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_staged_round_trip(small_model, tmp_path):
    direction = {k: np.full_like(v, 0.01) for k, v in small_model.params.items()}
    stages = (
        TangentStage(direction, direction, 1e-3),
        NetworkStage(xsq.init_params((1, 3, 1), seed=1), "tanh", "identity", 1e-6),
    )
    model = Model(small_model.params, small_model.scaler, stages=stages)
    model.save(tmp_path / "s.npz")
    loaded = xsq.load_model(tmp_path / "s.npz")
    assert [s.kind for s in loaded.stages] == ["tangent", "network"] and loaded.record is None
    assert loaded.stages[1].activation == "tanh" and loaded.stages[1].scale == 1e-6
    x = np.linspace(1, 10, 7)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert np.array_equal(loaded.derivative(x), model.derivative(x))


def test_a_derivative_stage_round_trips(tmp_path):
    x = np.linspace(-1, 1, 40)
    base = xsq.fit(x, 1 + x**2, hidden=3, epochs=20, restarts=0, output="identity", seed=0)
    stage = DerivativeStage(np.random.default_rng(0).normal(size=columns(3, 2)), 2, 1e-4)
    network = NetworkStage(xsq.init_params((1, 3, 1), seed=1), "tanh", "identity", 1e-6)
    model = Model(base.params, base.scaler, output="identity", stages=(stage, network))
    model.save(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz") as data:
        assert "s2_coef" in data.files
    loaded = xsq.load_model(tmp_path / "d.npz")
    assert [s.kind for s in loaded.stages] == ["derivatives", "network"] and loaded.stages[0].order == 2
    assert np.array_equal(loaded.predict(x), model.predict(x)) and not np.array_equal(model.predict(x), base.predict(x))
    assert np.array_equal(loaded.derivative(x), model.derivative(x))


def _with_derivative_stage(arrays, coef, order=1, **meta):
    stage = {"kind": "derivatives", "order": order, "scale": 1e-3, **meta}
    return dict(meta_with(arrays, stages=[stage]), s2_coef=coef)


@pytest.mark.parametrize(
    "craft,message",
    [
        (lambda a: meta_with(a, stages=[{"kind": "derivatives", "order": 1, "scale": 1}]), "s2_coef.npy of its"),
        (lambda a: dict(a, s2_coef=np.ones(13)), "a stage it does not list"),
        (lambda a: _with_derivative_stage(a, np.ones(13), order=99), "order must be a whole number >= 1 and <= 6"),
        (lambda a: _with_derivative_stage(a, np.ones(13), order=1.5), "order must be a whole number"),
        (lambda a: _with_derivative_stage(a, np.ones(13), evil=1), "must record exactly: kind, order, scale"),
        (lambda a: _with_derivative_stage(a, np.ones((13, 1))), "coef must be a vector of finite floats"),
        (lambda a: _with_derivative_stage(a, np.full(13, np.nan)), "coef must be a vector of finite floats"),
        (lambda a: _with_derivative_stage(a, np.ones(13).astype(np.int64)), "dtype int64"),
        (lambda a: _with_derivative_stage(a, np.ones(12)), "stage 2 .derivatives. has 12 coefficients, where order 1"),
    ],
)
def test_crafted_derivative_stages_are_refused(identity_good, tmp_path, craft, message):
    path = write(tmp_path, craft(identity_good))
    with pytest.raises(xsq.InputError, match=f"is not a valid xsq model: .*({message})"):
        xsq.load_model(path)


def test_a_derivative_stage_on_a_softplus_network_is_refused(good, tmp_path):
    path = write(tmp_path, _with_derivative_stage(good, np.ones(13)))
    with pytest.raises(xsq.InputError, match="stage 2 .derivatives. needs a first network of one input, .* identity"):
        xsq.load_model(path)


@pytest.fixture
def identity_good(tmp_path):
    x = np.linspace(1, 2, 60)
    path = tmp_path / "identity.npz"
    xsq.fit(x, x**2, hidden=4, epochs=20, restarts=0, output="identity", seed=0).save(path)
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize(
    "craft,message",
    [
        (lambda a: meta_with(a, activation="swish"), "unknown activation 'swish'"),
        (lambda a: meta_with(a, output=7), "unknown output 7"),
        (lambda a: dict(a, meta=np.array(json.dumps([1, 2]))), "meta member is not a mapping"),
        (lambda a: dict(a, meta=np.array("{not json")), "not valid JSON"),
        (lambda a: meta_with(a, format="xsq-model-1"), "format 'xsq-model-1' is not 'xsq-model-2'"),
        (lambda a: {k: v for k, v in a.items() if k != "x_std"}, "member x_std.npy is missing"),
        (lambda a: {k: v for k, v in a.items() if k != "b2"}, "missing b2"),
        (lambda a: dict(a, extra=np.ones(2)), "unexpected member extra.npy"),
        (lambda a: dict(a, s2_params_W1=np.ones((1, 2))), "a stage it does not list"),
        (lambda a: dict(a, s2_W1=np.ones((1, 2))), "unexpected member s2_W1.npy"),
        (lambda a: dict(a, W1=np.full_like(a["W1"], np.nan)), "params W1 holds NaN or inf"),
        (lambda a: dict(a, y_scale=np.zeros(1)), "x_std and y_scale must be > 0"),
        (lambda a: dict(a, x_std=-np.ones(1)), "x_std and y_scale must be > 0"),
        (lambda a: dict(a, x_mean=np.array([np.inf])), "x_mean must be a 1-D array of finite numbers"),
        (lambda a: dict(a, x_mean=np.zeros(3)), "means and spreads differ in length"),
        (lambda a: dict(a, W1=np.ones((1, 0)), b1=np.ones(0), W2=np.ones((0, 1))), "every n >= 1"),
        (lambda a: dict(a, W1=a["W1"].astype(np.float32)), "dtype float32"),
        (lambda a: dict(a, W1=a["W1"].astype(np.int64)), "dtype int64"),
        (lambda a: dict(a, W1=np.array([{"a": 1}], dtype=object)), "dtype object"),
        (lambda a: dict(a, history_phase=np.array(["warmup", "bogus"])), "history columns differ|unknown phase"),
        (lambda a: meta_with(a, record={"best_epoch": 1}), "training record is not a mapping of the expected fields"),
        (lambda a: meta_with(a, stages="many"), "stages are not a list of mappings"),
        (
            lambda a: dict(
                meta_with(a, stages=[{"kind": "network", "activation": "tanh", "output": "identity", "scale": -1}]),
                s2_params_W1=np.ones((1, 2)),
                s2_params_b1=np.ones(2),
                s2_params_W2=np.ones((2, 1)),
                s2_params_b2=np.ones(1),
            ),
            "scale must be",
        ),
        (
            lambda a: meta_with(a, stages=[{"kind": "magic", "scale": 1}]),
            "kind must be one of: network, tangent, derivatives",
        ),
        (
            lambda a: meta_with(a, stages=[{"kind": ["network"], "scale": 1}]),
            "kind must be one of: network, tangent, derivatives",
        ),
        (
            lambda a: meta_with(a, stages=[{"kind": "tangent", "scale": 1, "evil": 2}]),
            "must record exactly: kind, scale",
        ),
        (lambda a: meta_with(a, stages=[{"kind": "tangent", "scale": 1}]), "missing W1, b1"),
    ],
)
def test_crafted_models_are_refused(good, tmp_path, craft, message):
    path = write(tmp_path, craft(good))
    with pytest.raises(xsq.InputError, match=f"is not a valid xsq model: .*({message})"):
        xsq.load_model(path)


def test_a_huge_declared_shape_is_refused_before_reading(good, tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as z:
        for k, v in good.items():
            buf = io.BytesIO()
            np.save(buf, v)
            z.writestr(f"{k}.npy", buf.getvalue() if k != "W1" else header.getvalue() + b"\0" * 16)
    with pytest.raises(xsq.InputError, match=r"W1.npy declares shape \(1099511627776,\)"):
        xsq.load_model(path)


def test_files_that_are_not_models(good, tmp_path):
    cases = {"missing.npz": None, "junk.npz": b"not a zip file at all", "empty.npz": b""}
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    with pytest.raises(xsq.InputError, match="does not exist"):
        xsq.load_model(tmp_path / "missing.npz")
    for name in ("junk.npz", "empty.npz"):
        with pytest.raises(xsq.InputError, match="not a valid .npz archive"):
            xsq.load_model(tmp_path / name)
    with open(tmp_path / "pickled.npz", "wb") as f:
        pickle.dump({"W1": np.ones(3)}, f)
    with pytest.raises(xsq.InputError, match="not a valid .npz archive"):
        xsq.load_model(tmp_path / "pickled.npz")
    whole = write(tmp_path, good, "whole.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(xsq.InputError, match="not a valid .npz archive"):
        xsq.load_model(tmp_path / "truncated.npz")
    with pytest.raises(xsq.InputError, match="is a directory"):
        xsq.load_model(tmp_path)
    os.symlink("/dev/zero", tmp_path / "device.npz")
    with pytest.raises(xsq.InputError, match="is not a regular file"):
        xsq.load_model(tmp_path / "device.npz")


def zipped(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def test_names_and_sizes_are_checked_before_any_member_is_read(good, tmp_path, monkeypatch):
    members = {f"{k}.npy": npy(v) for k, v in good.items()}
    read = []
    monkeypatch.setattr("xsq.training.modelfile._read_member", lambda archive, info: read.append(info) or pytest.fail())
    with pytest.raises(xsq.InputError, match="unexpected member evil.npy"):
        xsq.load_model(zipped(tmp_path / "a.npz", {**members, "evil.npy": b""}))
    with pytest.raises(xsq.InputError, match="member meta.npy is missing"):
        xsq.load_model(zipped(tmp_path / "b.npz", {k: v for k, v in members.items() if k != "meta.npy"}))
    monkeypatch.setattr("xsq.training.modelfile.MAX_FILE_BYTES", sum(map(len, members.values())) - 1)
    monkeypatch.setattr("xsq.training.modelfile.regular_file", lambda *a: 0)
    with pytest.raises(xsq.InputError, match="its members declare .* bytes in all, more than any xsq model"):
        xsq.load_model(zipped(tmp_path / "c.npz", members))
    assert read == []


STAGE = dict(
    stage=2,
    kind="network",
    activation="tanh",
    hidden=[16],
    kept=True,
    val_error_before=1e-3,
    val_error_after=1e-5,
    epochs=40,
    seconds=0.5,
    note="",
)


def test_an_unreadable_header_or_number_is_refused(good, tmp_path):
    members = {f"{k}.npy": npy(v) for k, v in good.items()}
    bad_header = b"\x93NUMPY\x01\x00" + (20).to_bytes(2, "little") + b"{'descr': <f8 garbage\n"
    with pytest.raises(xsq.InputError, match="member W1.npy has an unreadable .npy header"):
        xsq.load_model(zipped(tmp_path / "h.npz", {**members, "W1.npy": bad_header}))
    for field, value, message in [
        ("best_epoch", 10**400, "training record's best epoch comes after its last"),  # JSON reads any integer
        (
            "start_loss",
            10**400,
            r"training record's start_loss must be a finite number, got 1\d{56}\.\.\.$",
        ),  # no float holds this one
        ("converged", "no", "training record's converged must be True or False"),
        ("n_epochs", 2.5, "training record's n_epochs must be a whole number >= 0"),
        ("domain", [[100.0, 1.0]], "training domain is not a list of \\[low, high\\] pairs"),
        ("domain", [[1.0, 100.0], [1.0, 2.0]], r"training domain has 2 ranges for 1 input\(s\)"),
        ("inputs", ["a", "b"], r"it names 2 input columns for 1 input\(s\)"),
        ("outputs", [7], "training record's outputs are not a list of column names"),
        ("stages", [{"stage": 2}], "stage record must have exactly: stage, kind, activation"),
        ("stages", [dict(STAGE, activation="swish")], "stage record's activation must be one of: sigmoid"),
        ("stages", [dict(STAGE, hidden=[0])], "stage record's hidden must be a list of whole numbers >= 1"),
        ("stages", [dict(STAGE, note="x" * 5000)], "stage record's note must be text of at most 1000 characters"),
    ]:
        meta = json.loads(str(good["meta"]))
        meta["record"][field] = value
        with pytest.raises(xsq.InputError, match=message):
            xsq.load_model(write(tmp_path, dict(good, meta=np.array(json.dumps(meta)))))
    with pytest.raises(xsq.InputError, match="nested too deeply"):
        xsq.load_model(write(tmp_path, dict(good, meta=np.array("[" * 100_000 + "]" * 100_000)), "deep.npz"))


def test_saving_into_a_missing_folder_names_it(small_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder .*missing.* to write into") as e:
        small_model.save(tmp_path / "missing" / "m.npz")
    assert e.value.filename == str(tmp_path / "missing" / "m.npz")
