"""The train and predict commands, end to end in subprocesses."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import xsq


def xsq_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "xsq", *args], capture_output=True, text=True, **kw)


def test_train_writes_the_run_and_predict_reads_it(tmp_path):
    out = tmp_path / "run"
    res = xsq_cli("train", "--epochs", "150", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    for x in ("1", "2", "10", "50", "99", "100"):
        assert any(line.split()[0] == x for line in res.stdout.splitlines() if line.strip())
    assert "test RMSE / target range" in res.stdout and "EXTRAPOLATION" in res.stdout
    files = set(os.listdir(out))
    assert {"model.npz", "metrics.json", "history.csv"} <= files
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ["test_rmse", "test_rmse_over_range", "test_max_rel_error", "extrapolation_max_rel_error",
                "train_seconds", "epochs", "optimizer", "sizes", "seed", "interrupted"]:
        assert key in metrics
    assert metrics["sizes"] == [1, 16, 1] and metrics["interrupted"] is False
    assert metrics["test_rmse_over_range"] < 1e-6
    history = (out / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,train_loss,val_loss,phase" and len(history) == metrics["epochs"] + 2
    phases = [line.rsplit(",", 1)[1] for line in history[1:]]
    assert phases[0] == "warmup" and phases[-1] == "running"  # mse on positive targets: warm-up first

    res = xsq_cli("predict", "--model", str(out / "model.npz"), "3", "7.5", "12")
    assert res.returncode == 0, res.stderr
    values = [float(line.split()[-1]) for line in res.stdout.splitlines()]
    assert np.allclose(values, [9, 56.25, 144], rtol=1e-3)
    res = xsq_cli("predict", "--model", str(out / "model.npz"), "--json", "3", "12")
    assert np.allclose(json.loads(res.stdout), [9, 144], rtol=1e-3)


def test_metrics_are_strict_json_without_a_validation_set(tmp_path):
    res = xsq_cli("train", "--epochs", "5", "--restarts", "0", "--val-fraction", "0", "--out", str(tmp_path),
                  "--quiet")
    assert res.returncode == 0, res.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert metrics["val_rmse"] is None and metrics["test_rmse"] > 0


def test_plots_are_written_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    res = xsq_cli("train", "--epochs", "5", "--restarts", "0", "--out", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    for name in ("fit.png", "loss.png", "error.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_without_matplotlib_everything_but_the_plots_is_written(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from xsq.cli import main; "
            f"sys.exit(main(['train', '--epochs', '5', '--restarts', '0', '--quiet', '--out', {str(tmp_path)!r}]))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(tmp_path)) == ["history.csv", "metrics.json", "model.npz"]
    assert "pip install 'xsq[plot]'" in res.stdout


def test_sigint_saves_the_best_model_and_exits_130(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "xsq", "train", "--epochs", "100000", "--patience", "100000",
                             "--out", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()  # the first progress line: training has started
    assert line.startswith("epoch"), line
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] is True
    model = xsq.load_model(tmp_path / "model.npz")
    assert model.interrupted and np.isfinite(model.predict(np.array([[5.0]]))).all()


@pytest.mark.parametrize("args,message", [
    (["--low", "5", "--high", "5"], "--low must be below --high"),
    (["--n", "1"], "must be a whole number >= 2"),
    (["--hidden", "16,0"], "every size must be >= 1"),
    (["--lr", "0"], "must be a finite number > 0"),
    (["--lr", "-1"], "must be a finite number > 0"),
    (["--epochs", "0"], "must be a whole number >= 1"),
    (["--val-fraction", "1"], "must be a number in [0, 1)"),
    (["--val-fraction", "-0.1"], "must be a number in [0, 1)"),
    (["--activation", "swish"], "invalid choice: 'swish'"),
    (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
    (["--loss", "mae"], "optimizer 'lm' needs a least-squares loss"),
    (["--loss", "relative_mse", "--low", "-1"], "--loss relative_mse needs every target > 0"),
    (["--seed", "x"], "seed must be a whole number"),
    (["--out", "/proc/xsq-cannot-write-here"], "cannot write to output directory"),
])
def test_train_bad_input(args, message, tmp_path):
    args = args if "--out" in args else [*args, "--out", str(tmp_path / "run")]
    res = xsq_cli("train", "--quiet", *args)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert not (tmp_path / "run" / "model.npz").exists()


def test_divergence_exits_1_and_writes_no_model(tmp_path):
    res = xsq_cli("train", "--quiet", "--activation", "relu", "--output", "identity", "--optimizer", "sgd",
                  "--lr", "1e6", "--epochs", "50", "--out", str(tmp_path))
    assert res.returncode == 1
    assert "training diverged at epoch" in res.stderr and res.stderr.count("\n") == 1
    assert not (tmp_path / "model.npz").exists()


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    (b"garbage", "not a valid .npz"),
])
def test_predict_bad_model(tmp_path, content, message):
    path = tmp_path / "model.npz"
    if content is not None:
        path.write_bytes(content)
    res = xsq_cli("predict", "--model", str(path), "3")
    assert res.returncode == 2 and message in res.stderr and res.stderr.count("\n") == 1
