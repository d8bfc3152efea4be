"""The third hostile pass: each class of broken promise, pinned at its root (one test per class, and one for
the smaller refusals seen on the way)."""

from __future__ import annotations

import errno
import io
import os
import resource
import signal
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.layout_engine import TightLayoutEngine

import xsq
from xsq.cli.commands import sweep as sweep_command
from xsq.cli.commands import train as train_command
from xsq.cli.main import main
from xsq.errors import InputError
from xsq.training import resources
from xsq.training import train as train_module


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture
def model_file(tmp_path):
    x = np.linspace(1, 100, 300)
    path = tmp_path / "model.npz"
    xsq.fit(x, x**2, epochs=300, restarts=0).save(path)
    return str(path)


@pytest.mark.parametrize("target", ["1/(x-50)", "log(abs(x-10))", "abs(x-2)/(x-2)"])
def test_1_a_target_undefined_at_a_reported_point_is_refused_before_anything_is_written(
    capsys, tmp_path, monkeypatch, target
):
    """Class 1: 50, 10 and 2 are points of the printed sample table (none is on the test grid)."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "train", "--target", target, "--quiet")
    assert code == 2 and one_line(err) and target in err
    assert os.listdir(tmp_path) == []


@pytest.mark.plots
@pytest.mark.parametrize("broken", ["tight_layout", "dpi"])
def test_2_any_step_of_drawing_that_fails_leaves_the_run_saved(capsys, tmp_path, monkeypatch, broken):
    """Class 2: layout raising (values too large to lay out) or a user's bad figure.dpi skips plots, never the run."""
    if broken == "tight_layout":

        def fail(self, *args, **kwargs):
            raise OverflowError("cannot convert float infinity to integer")

        monkeypatch.setattr(TightLayoutEngine, "execute", fail)  # inside Figure.tight_layout
    else:
        monkeypatch.setitem(matplotlib.rcParams, "figure.dpi", -5)
    from xsq.cli import plots

    monkeypatch.setattr(plots, "_error", lambda *args: b"png")  # loss.png shows that the others are kept
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "--quiet", "--epochs", "30", "--out", str(out_dir))
    assert code == 0, err
    assert {"model.npz", "metrics.json", "history.csv", "loss.png"} <= set(os.listdir(out_dir))
    assert "fit.png skipped: matplotlib could not draw" in out


def test_4_standard_output_that_cannot_be_written_is_a_failure(capsys, model_file, monkeypatch):
    """Class 4: a closed stdout is refused up front; a full device behind it fails with one line; a reader
    that went away ends quietly."""
    monkeypatch.setattr(sys, "stdout", None)
    assert main(["predict", "--model", model_file, "3"]) == 1
    assert "standard output is closed" in capsys.readouterr().err

    class Full(io.StringIO):
        def flush(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sys, "stdout", Full())
    assert main(["predict", "--model", model_file, "3"]) == 1
    err = capsys.readouterr().err
    assert one_line(err) and "standard output could not be written (No space left on device)" in err

    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Gone())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert main(["predict", "--model", model_file, "3"]) == 1
    assert sys.stderr.closed or sys.stderr.getvalue() == ""


def test_6_diagnose_honours_an_interrupt_inside_xsqs_fit(monkeypatch, capsys):
    """Class 6: a Ctrl-C that lands in fit (which keeps the best so far) stops diagnose with 130, no report."""
    real = train_module.run

    def interrupted(steps, data, s, callback=None, **fields):
        def each(info):
            if info["epoch"] == 12:  # past LM's first screening epochs, so fit has a best so far to return
                signal.raise_signal(signal.SIGINT)

        return real(steps, data, s, each, **fields)

    monkeypatch.setattr(train_module, "run", interrupted)
    code, out, err = run(capsys, "diagnose", "--steps", "10", "--quiet")
    assert (code, out) == (130, "")
    assert one_line(err) and "interrupted" in err


def test_6_fit_whole_raises_the_interrupt_that_fit_keeps_the_best_for():
    """Class 6, the library's side: the helper every caller that needs a whole fit goes through."""
    x = np.linspace(1, 100, 200)

    def interrupt(info):
        if info["epoch"] == 12:
            raise KeyboardInterrupt

    assert xsq.fit(x, x**2, epochs=40, callback=interrupt).record.interrupted
    with pytest.raises(KeyboardInterrupt):
        train_module.fit_whole(x, x**2, epochs=40, callback=interrupt)


def test_7_resources_the_process_limit_bounds_the_estimate_and_running_out_is_named(capsys, tmp_path, monkeypatch):
    """Class 7: RLIMIT_AS (ulimit -v) counts as well as the machine's memory; a MemoryError and a killed worker
    are one line, exit 1, saying what was kept."""
    with open("/proc/self/statm") as handle:
        mapped = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = mapped + 50 * 2**20
    monkeypatch.setattr(resource, "getrlimit", lambda which: (limit, resource.RLIM_INFINITY))
    with pytest.raises(InputError, match="ulimit -v"):
        resources.check_memory(1000, (1, 1000, 1), "lm")  # about 0.3 GiB: fits the machine, not the limit
    monkeypatch.undo()

    monkeypatch.chdir(tmp_path)

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(train_command, "fit", out_of_memory)
    code, out, err = run(capsys, "train", "--quiet", "--epochs", "5")
    assert code == 1 and one_line(err) and "out of memory" in err and "bug" not in err
    assert "nothing was saved" in err and not os.path.exists("runs/latest")

    def killed(cells, grid, jobs, client):
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        raise TerminatedWorkerError("A worker process managed by the executor was unexpectedly terminated.")
        yield

    monkeypatch.setattr(sweep_command, "_cells_in_parallel", killed)
    code, out, err = run(capsys, "sweep", "--quiet", "--lr", "0.1", "--out", "s")
    assert code == 1 and one_line(err) and "worker process was killed" in err and "kept the 0 finished cells" in err


def test_8_library_functions_refuse_bad_input_with_input_error():
    """Class 8: sized against memory before allocating; text is not numbers."""
    with pytest.raises(InputError, match="GiB"):
        xsq.init_params((1, 2**40, 1))
    for pred, target in ((np.array(["a"]), np.array(["b"])), (["a"], ["b"]), (np.array([1 + 2j]), np.array([1.0]))):
        with pytest.raises(InputError, match="real numbers"):
            xsq.losses.mse(pred, target)
    x = np.linspace(1.0, 2.0, 5)
    for call in (
        lambda: xsq.param_keys(3),
        lambda: xsq.init_params((1, 2, 1), init=np.zeros(2)),
        lambda: xsq.fit([[1.0], [2.0, 3.0]], [1.0, 2.0], epochs=2),
        lambda: xsq.fit(x, x**2, epochs=2, callback="print"),
        lambda: xsq.Scaler.fit(np.array([["a"]]), np.array([[1.0]])),
        lambda: xsq.Scaler.fit(np.zeros((0, 1)), np.zeros((0, 1))),
    ):
        with pytest.raises(InputError):
            call()


def test_9_a_users_path_or_text_never_breaks_a_message_line(capsys, tmp_path, monkeypatch):
    """Class 9: a path with a newline is quoted in errors and in what a run prints; a target's newline is
    space."""
    monkeypatch.chdir(tmp_path)
    bad = "bad\nname.csv"
    (tmp_path / bad).write_text("x,y\n1,2\n2,abc\n3,4\n")
    code, out, err = run(capsys, "train", "--data", bad, "--quiet")
    assert code == 2 and one_line(err) and repr(bad) in err
    code, out, err = run(capsys, "train", "--target", "(1/(x\n-50))", "--quiet")
    assert code == 2 and one_line(err)
    assert train_command.shown("o\nut") == "'o\\nut'" and train_command.shown("runs/a") == "runs/a"


def test_options_that_do_not_apply_are_refused_and_limits_are_said(capsys, tmp_path, monkeypatch):
    """Also seen: --scheduler without dask and --activation with --all are refused; the cap of --lr a:b:n is
    said; a run estimated to take minutes says so before it starts."""
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "sweep", "--scheduler", "tcp://localhost:1")
    assert code == 2 and "--backend dask" in err
    code, out, err = run(capsys, "gradcheck", "--all", "--activation", "relu")
    assert code == 2 and "--activation" in err
    code, out, err = run(capsys, "sweep", "--lr", "1e-3:1:20000")
    assert code == 2 and "at most 10000" in err
    assert os.listdir(tmp_path) == []
    monkeypatch.setattr(train_command, "LONG_RUN", 0)
    code, out, err = run(capsys, "train", "--quiet", "--epochs", "30", "--out", "r")
    assert code == 0 and err.startswith("xsq train: note: this run may take up to about")


def test_fresh_pass_a_data_range_beyond_float64_is_measured_without_overflow():
    """Found by the fresh pass: targets from -1e308 to 1e308 made the range overflow (a RuntimeWarning, and
    an RMSE / range of 0)."""
    from xsq.data.metrics import rmse_over_range

    y = np.array([1e308, -1e308, 9.0])
    assert rmse_over_range(y + 1e306, y) == pytest.approx(1e306 / 2 / 1e308)  # the range is 2e308


def test_fresh_pass_what_matplotlib_says_is_one_line(monkeypatch):
    """Found by the fresh pass: matplotlib's TypeError for a file name it cannot render spans lines."""
    import matplotlib.pyplot as plt

    from xsq.cli import plots

    def fail(*args, **kwargs):
        raise RuntimeError("set_text(): incompatible function arguments.\n    1. (self: FT2Font, string: str)")

    monkeypatch.setattr(Figure, "savefig", fail)
    with pytest.raises(xsq.errors.PlotError) as caught:
        plots.png(plt.figure())
    assert "\n" not in str(caught.value) and "1. (self: FT2Font" in str(caught.value)


def test_fresh_pass_a_refused_run_is_not_first_announced_as_long(capsys, tmp_path, monkeypatch):
    """Found by the fresh pass: the long-run note came before the memory refusal (two lines for bad input)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_text("x,y\n1,1\n2,4\n3,9\n4,16\n5,25\n")
    code, out, err = run(capsys, "train", "--data", "d.csv", "--hidden", "1000000", "--quiet")
    assert code == 2 and one_line(err) and "GiB" in err
