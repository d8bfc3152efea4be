"""A few true end-to-end runs in subprocesses: the command as installed, Ctrl-C at controlled points, two writers.

Each interruption is sent from inside the process at a chosen point (an import, an LM step, a file write),
or after the run has reported progress: never after a sleep.
"""

import json
import os
import signal
import subprocess
import sys

import numpy as np

import xsq
from xsq.cli.main import main

INTERRUPT_AT = """
import os, signal, sys
sys.modules["matplotlib"] = None  # these runs are about signals: no second spent drawing (the run says so)
{setup}
from xsq.__main__ import main
sys.exit(main({argv!r}))
"""


def xsq_without_plots(*args):
    return [sys.executable, "-c", INTERRUPT_AT.format(setup="", argv=list(args))]


def xsq_cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "xsq", *args], capture_output=True, text=True, timeout=120, **kw)


def interrupted(setup, argv, cwd):
    code = INTERRUPT_AT.format(setup=setup, argv=argv)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=cwd)


def clean(folder):
    return [n for n in os.listdir(folder) if "partial" in n or n.endswith(".old")] == []


def test_train_then_predict(tmp_path):
    # the run's drawing has in-process tests of its own (test_cli.py): this process trains and saves only
    argv = xsq_without_plots("train", "--epochs", "150", "--restarts", "0", "--out", str(tmp_path / "run"), "--quiet")
    res = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and res.stderr == "", res.stderr
    res = xsq_cli("predict", "--model", str(tmp_path / "run" / "model.npz"), "--json", "3", "12")
    assert res.returncode == 0 and np.allclose(json.loads(res.stdout)["prediction"], [9, 144], rtol=1e-3)


def test_sigint_during_training_saves_the_best_model(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        xsq_without_plots("train", "--epochs", "100000", "--patience", "100000", "--out", str(out)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:  # wait until training is well under way (the warm-up has begun)
        if " warmup " in line or " running " in line:
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in stderr
    assert f"interrupted: saved the best model so far to {out}" in stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["interrupted"] is True and clean(tmp_path)
    model = xsq.load_model(out / "model.npz")
    assert model.record.interrupted and np.isfinite(model.predict(np.array([5.0]))).all()


SIGINT_ON_IMPORT = """
import importlib.abc
class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "autograd":
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
"""
SIGINT_AT_LM_STEP = """
import xsq.training.lm_policy as policy
step, calls = policy.lm_step, []
def interrupting(*args, **kw):
    calls.append(1)
    if len(calls) == {n}:
        os.kill(os.getpid(), signal.SIGINT)
    return step(*args, **kw)
policy.lm_step = interrupting
"""


def test_sigint_at_each_stage(tmp_path):
    cases = [  # (stage, code that sends SIGINT there, message, whether the best so far is saved); later stages:
        # test_interrupts.py
        ("imports", SIGINT_ON_IMPORT, "xsq: interrupted: nothing was saved", False),
        ("before the first step", SIGINT_AT_LM_STEP.format(n=1), "xsq train: interrupted: nothing was saved", False),
        ("during restarts", SIGINT_AT_LM_STEP.format(n=5), "interrupted: saved the best model so far", True),
    ]
    for stage, setup, message, saved in cases:
        out = tmp_path / stage.replace(" ", "-")
        out.mkdir()
        (out / "model.npz").write_text("the previous run")
        (out / "metrics.json").write_text("{}")
        res = interrupted(setup, ["train", "--out", str(out), "--overwrite", "--epochs", "100"], tmp_path)
        assert res.returncode == 130 and "Traceback" not in res.stderr, (stage, res.stderr)
        assert message in res.stderr, (stage, res.stderr)
        if saved:
            assert xsq.load_model(out / "model.npz").record.interrupted, stage
        else:
            assert sorted(os.listdir(out)) == ["metrics.json", "model.npz"], stage
            assert (out / "model.npz").read_text() == "the previous run", stage
        assert clean(tmp_path), stage


def test_two_writers_into_one_folder(tmp_path, capsys):
    out = str(tmp_path / "run")
    first = subprocess.Popen(
        xsq_without_plots("train", "--epochs", "100000", "--patience", "100000", "--seed", "1", "--out", out),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    progress = (line for line in first.stderr if line.startswith("train epoch"))  # not its note of the run's length
    next(progress)  # its first progress line: it holds the folder, and will until it is stopped
    # the second writer is this process (the lock is the folder's, whoever holds it)
    assert main(["train", "--epochs", "150", "--seed", "2", "--out", out, "--quiet"]) == 2
    assert "another xsq run is writing to" in capsys.readouterr().err
    next(progress)  # a later one: it has trained, so it has a best model so far to save
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=120)
    assert first.returncode == 130
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["seed"] == 1 and clean(tmp_path)


def test_names_an_ascii_terminal_cannot_show_are_escaped_not_a_crash(tmp_path):
    data = tmp_path / "d.csv"
    x = np.linspace(0.0, 1.0, 40)
    data.write_text("θ,ψ\n" + "".join(f"{a},{2 * a + 1}\n" for a in x), encoding="utf-8")
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    train = ["train", "--data", str(data), "--epochs", "5", "--quiet", "--out", str(tmp_path / "r")]
    done = subprocess.run(
        [sys.executable, "-m", "xsq", *train], capture_output=True, text=True, timeout=120, env=env, encoding="ascii"
    )
    assert done.returncode == 0, done.stderr
    assert "\\u03b8" in done.stdout and "internal error" not in done.stderr
