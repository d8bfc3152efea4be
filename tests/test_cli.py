"""The command line, in-process: one clean line and exit 2 for bad input, numbers read as numbers, runs written."""

import io
import json
import os
import sys

import numpy as np
import pytest

import xsq
import xsq.cli.commands
from xsq.cli.main import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err):
    return err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    x = np.linspace(1, 100, 300)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    xsq.fit(x, x**2, epochs=300, restarts=0).save(path)
    return str(path)


def test_bare_xsq_lists_its_commands(capsys):
    code, out, err = run(capsys)
    assert code == 2 and all(c in err for c in ("train", "predict", "gradcheck", "diagnose"))


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "--low", "5", "--high", "5"], "xsq train: error: low must be below high"),
        (["train", "--n", "1"], "xsq train: error: argument --n: must be a whole number >= 2, got '1'"),
        (
            ["train", "--hidden", "16,0"],
            "argument --hidden: must be one or more whole numbers >= 1 and <= 1000000, got '16,0'",
        ),
        (["train", "--optimizer", "adam", "--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
        (["train", "--optimizer", "adam", "--lr", "-1e-3"], "must be a finite number > 0, got '-1e-3'"),
        (["train", "--low", "nan"], "argument --low: must be a finite number, got 'nan'"),
        (["train", "--high", "-inf"], "argument --high: must be a finite number, got '-inf'"),
        (["train", "--epochs", "0"], "must be a whole number >= 1"),
        (["train", "--val-fraction", "1"], "must be a finite number >= 0 and < 1"),
        (["train", "--activation", "swish"], "invalid choice: 'swish'"),
        (["train", "--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
        (["train", "--loss", "mae"], "optimizer 'lm' needs a least-squares loss"),
        (["train", "--lr", "0.1"], "--lr applies only to optimizer sgd, momentum, adam, not 'lm'"),
        (["train", "--optimizer", "adam", "--restarts", "2"], "--restarts applies only to optimizer lm, not 'adam'"),
        (["train", "--low", "1e200", "--high", "1e201"], "x\\*\\*2 overflows float64 on \\[1e\\+200, 1e\\+201\\]"),
        (["train", "--low", "1e-200", "--high", "1e-100"], "x\\*\\*2 underflows float64"),
        (["train", "--low", "1", "--high", "1.0000000000001"], "too narrow for float64"),
        (["train", "--seed", "x"], "argument --seed: must be a whole number >= 0, got 'x'"),
        (["train", "--bogus"], "xsq train: error: unrecognized arguments: --bogus"),
        (["train", "--out", "/proc/xsq-cannot-write-here"], "cannot write to output folder"),
        (["gradcheck", "--sizes", "1,0,1"], "xsq gradcheck: error: argument --sizes"),
        (["gradcheck", "--n", "0"], "must be a whole number >= 1"),
        (
            ["gradcheck", "--sizes", "1,500,500,1", "--n", "1000"],
            "checking 252001 parameters .* would take too long",
        ),
        (["gradcheck", "--all", "--sizes", "1,64,1", "--n", "5000"], r"\(100 combination\(s\), order 1\) would take"),
        (["gradcheck", "--order", "2", "--n", "100000"], "on 100000 samples .* order 2.* would take too long"),
        (["gradcheck", "--order", "2", "--sizes", "100,100,100"], "forms 20200 x 20200 matrices; .* at most 4000"),
        (
            ["gradcheck", "--sizes", ",".join(["1"] * 4000), "--n", "1"],
            "checking 7998 parameters .* would take too long",
        ),
        (["train", "--target", "\uff58**2"], "--target: invalid character '\uff58' \\(U\\+FF58\\) at column 1"),
        (
            ["train", "--target", "0*x + 3"],
            "0\\*x \\+ 3 is constant \\(3\\) on \\[1, 100\\]: there is nothing",
        ),
        (["train", "--low", "-1e308", "--high", "1e308"], "too wide for float64"),
        (["train", "--target", "x-50", "--output", "relu"], "a relu output can only produce values >= 0, but the sm"),
        (["train", "--epochs", "1e10"], "--epochs: must be a whole number >= 1 and <= 1000000000"),
        (
            ["diagnose", "--steps", "-5"],
            "xsq diagnose: error: argument --steps: must be a whole number >= 1 .*got '-5'",
        ),
        (["predict", "--model", "/nonexistent/model.npz", "3"], "xsq predict: error: model file .* does not exist"),
        (["predict", "--model", "/", "3"], "is a directory"),
        (["train", "--target", "-x**2"], "--target: expected one argument \\(.* is written --target=VALUE\\)$"),
        (["predict", "3"], "no model at 'runs/latest/model.npz': train one first with xsq train, or give --model FILE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *args, *(["--quiet"] if args[0] == "train" else []))
    assert code == 2 and one_line(err), err
    assert __import__("re").search(message, err), err
    assert err.startswith(f"xsq {args[0]}: error: ") and err.count("error:") == 1
    assert not os.path.exists(tmp_path / "runs") or not os.listdir(tmp_path / "runs")


def test_a_gradcheck_over_its_work_limit_is_refused_not_run(capsys, monkeypatch):
    from xsq.cli.commands import gradcheck

    monkeypatch.setattr(gradcheck, "MAX_WORK", 1e5)  # a check of a few milliseconds, now over the limit
    code = main(["gradcheck", "--sizes", "1,4,1", "--n", "20"])
    err = capsys.readouterr().err
    assert code == 2 and "would take too long" in err and err.count("\n") == 1, err


def test_negative_numbers_are_values(capsys, model_file):
    code, out, err = run(capsys, "predict", "--model", model_file, "-1e3", "-3", "-.5", "2.5e1")
    assert code == 0, err
    assert [float(line.split()[0]) for line in out.splitlines()] == [-1000.0, -3.0, -0.5, 25.0]
    assert "4 of 4 inputs (-1000, -3, -0.5, 25) lie outside" not in err and "lie outside" in err


def test_predict_json_flags_extrapolation_and_gives_slopes(capsys, model_file):
    code, out, err = run(capsys, "predict", "--model", model_file, "--json", "--derivative", "3", "150")
    got = json.loads(out)
    assert code == 0 and got["extrapolation"] == [False, True] and got["domain"] == [1.0, 100.0]
    assert np.allclose(got["prediction"][0], 9, rtol=1e-3) and np.allclose(got["derivative"][0], 6, rtol=1e-2)
    assert "1 of 2 inputs (150) lies outside [1, 100]" in err
    code, out, err = run(capsys, "predict", "--model", model_file, "--derivative", "3")
    x, p, slope = map(float, out.split())
    assert (x, round(p), round(slope)) == (3.0, 9, 6) and err == ""


def test_internal_errors_are_not_blamed_on_the_user(capsys, monkeypatch):
    from xsq.cli.commands import gradcheck

    monkeypatch.setattr(gradcheck, "gradcheck", lambda *a, **k: 1 / 0)
    code, out, err = run(capsys, "gradcheck")
    assert code == 1 and one_line(err)
    assert "internal error: ZeroDivisionError" in err and "not a problem with your input" in err and "XSQ_DEBUG" in err
    monkeypatch.setenv("XSQ_DEBUG", "1")
    with pytest.raises(ZeroDivisionError):
        main(["gradcheck"])


@pytest.mark.plots
def test_train_writes_a_complete_run_and_latest_follows(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "train", "--epochs", "120", "--restarts", "1", "--quiet")
    assert code == 0 and err == "", err
    runs = tmp_path / "runs"
    folder = runs / os.readlink(runs / "latest")
    names = {"model.npz", "metrics.json", "history.csv", "fit.png", "loss.png", "error.png"}
    assert set(os.listdir(folder)) == names
    metrics = json.loads((folder / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    for key in [
        "test_rmse_over_range",
        "test_max_rel_error",
        "test_derivative_max_rel_error",
        "extrapolation_derivative_max_rel_error_below",
        "train_seconds",
        "epochs",
        "optimizer",
        "sizes",
        "seed",
        "interrupted",
        "target",
    ]:
        assert key in metrics, key
    assert metrics["test_rmse_over_range"] < 1e-4 and metrics["sizes"] == [1, 16, 1] and metrics["target"] == "x**2"
    history = (folder / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,train_loss,val_loss,phase" and len(history) == metrics["epochs"] + 2
    assert "x**2" in out and "learned slope" in out and f"to runs/{folder.name}" in out
    for x in ("1", "2", "10", "50", "99", "100"):
        assert any(line.split()[0] == x for line in out.splitlines() if line.strip())
    monkeypatch.setattr(xsq.cli.commands, "PLOTTING", False)  # the second run is for latest only: no drawing
    assert run(capsys, "train", "--epochs", "40", "--restarts", "0", "--quiet", "--seed", "1")[0] == 0
    assert len([n for n in os.listdir(runs) if not n.startswith(".")]) == 3  # two runs and latest
    assert os.readlink(runs / "latest").endswith("seed1")
    kept = xsq.load_model(runs / "latest" / "model.npz").record.settings  # the model file knows its run's seed
    assert (kept["seed"], kept["output_reason"]) == (1, "every target is > 0")


def test_a_failed_run_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(
        capsys, "train", "--quiet", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "50", "--out", "run"
    )
    assert code == 1 and one_line(err) and "xsq train: error: training diverged" in err
    assert "try a lower learning rate than 1e+06 (--lr)" in err  # not "lower or higher": it diverged
    assert "epochs" not in err.split("; try ")[-1]  # nor more of it
    assert not os.path.exists(tmp_path / "run") and [n for n in os.listdir(tmp_path) if "partial" in n] == []


def test_metrics_are_strict_json_without_a_validation_set(capsys, tmp_path):
    out = tmp_path / "run"
    code, _, err = run(
        capsys, "train", "--epochs", "30", "--restarts", "0", "--val-fraction", "0", "--out", str(out), "--quiet"
    )
    assert code == 0, err
    metrics = json.loads((out / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert metrics["val_rmse"] is None and metrics["test_rmse"] > 0


@pytest.mark.plots
def test_without_matplotlib_everything_but_the_plots_is_written(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(xsq.cli.commands, "PLOTTING", False)
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 0 and sorted(os.listdir(tmp_path / "r")) == ["history.csv", "metrics.json", "model.npz"]
    assert "pip install 'xsq[plot]'" in out


@pytest.mark.plots
def test_a_figure_matplotlib_cannot_draw_is_skipped_and_a_bug_is_not(capsys, tmp_path, monkeypatch):
    import matplotlib.figure

    from xsq.cli import plots

    def overflow(*args, **kwargs):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", overflow)
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 0 and sorted(os.listdir(tmp_path / "r")) == ["history.csv", "metrics.json", "model.npz"]
    assert "plots skipped: matplotlib could not draw these values (cannot convert float infinity" in out
    monkeypatch.undo()

    def no_latex(*args, **kwargs):
        raise RuntimeError("Failed to process string with tex because latex could not be found")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", no_latex)  # a configuration it cannot honour
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--quiet", "--out", str(tmp_path / "t"))
    assert code == 0 and "plots skipped: matplotlib could not draw (RuntimeError: Failed to process" in out
    monkeypatch.undo()
    monkeypatch.setattr(plots, "_fit", lambda *args: b"png")  # drawn (not looked at), before...
    monkeypatch.setattr(plots, "_loss", lambda model: int("not a number"))  # ...a bug in xsq's own drawing code
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--quiet", "--out", str(tmp_path / "s"))
    assert code == 1 and "internal error: ValueError" in err and not (tmp_path / "s").exists()


@pytest.mark.plots
def test_a_matplotlib_that_cannot_be_loaded_costs_the_plots_only(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # found by find_spec, but broken on import
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 0 and sorted(os.listdir(tmp_path / "r")) == ["history.csv", "metrics.json", "model.npz"]
    assert "plots skipped: matplotlib could not be loaded (ModuleNotFoundError" in out
    sweep = ["sweep", "--lr", "1e-2", "--hidden", "1", "--batch", "all", "--optimizer", "sgd", "--seeds", "0"]
    code, out, err = run(
        capsys, *sweep, "--formulas", "stable", "--steps", "20", "--jobs", "1", "--quiet", "--out", str(tmp_path / "s")
    )
    assert code == 0 and "map skipped: matplotlib could not be loaded (ModuleNotFoundError" in out
    assert "sweep.png" not in os.listdir(tmp_path / "s") and "wrote sweep.csv, sweep.json to" in out


def test_progress_lines_when_not_a_terminal(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--out", str(tmp_path / "r"))
    assert code == 0 and err.startswith("train epoch      0/30") and "\r" not in err


def strict(text: str):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))


def test_json_outputs_are_strict(capsys, model_file):
    for argv in (
        ["gradcheck", "--json", "--n", "8", "--order", "2"],
        ["predict", "--model", model_file, "--json", "--derivative", "1e300"],
    ):
        assert main(argv) in (0, 1)
        strict(capsys.readouterr().out)


def test_version(capsys, monkeypatch):
    from importlib import metadata

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"xsq {metadata.version('xsq')}\n"

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)  # a checkout on the path, never installed
    assert main(["gradcheck", "--n", "4"]) == 0  # every command still runs
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out == "xsq (not installed)\n"


def test_gradcheck_json(capsys):
    code, out, err = run(capsys, "gradcheck", "--json", "--n", "8", "--activation", "tanh", "--loss", "huber")
    results = json.loads(out)
    assert code == 0 and len(results) == 1 and results[0]["passed"]
    assert {"name", "shape", "ref_rel_diff", "fd_rel_diff", "passed"} <= set(results[0]["params"][0])


def test_predict_refuses_inputs_the_model_cannot_evaluate(capsys, tmp_path):
    from xsq.training.model import Model
    from xsq.training.scaling import Scaler

    params = {"W1": np.array([[10.0]]), "b1": np.zeros(1), "W2": np.array([[1.0]]), "b2": np.zeros(1)}
    Model(params, Scaler.none(1, 1), "identity", "identity").save(tmp_path / "m.npz")
    code, out, err = run(capsys, "predict", "--model", str(tmp_path / "m.npz"), "3", "1e308")
    assert code == 2 and out == "" and one_line(err)
    assert "cannot evaluate x = 1e+308 in float64 (its prediction there is not a finite number)" in err
    for line in ("1e400", "nan"):  # inputs that are not finite are the input's fault, and named
        assert run(capsys, "predict", "--model", str(tmp_path / "m.npz"), line)[2] == (
            f"xsq predict: error: input 1: {line!r} is not a finite float64 number\n"
        )


def test_predict_blames_a_model_that_is_not_finite_where_it_was_trained(capsys, tmp_path):
    import dataclasses

    x = np.linspace(1.0, 4.0, 20)
    model = xsq.fit(x, x, hidden=2, output="identity", epochs=20, restarts=0)
    huge = dict(model.params, b1=np.full(2, 50.0), W2=np.full((2, 1), 1e308))  # a crafted file: it overflows
    dataclasses.replace(model, params=huge).save(tmp_path / "m.npz")
    code, out, err = run(capsys, "predict", "--model", str(tmp_path / "m.npz"), "0.5", "3")  # 0.5: outside too
    assert (
        code == 2 and one_line(err) and "gives no finite prediction at x = 3, inside the domain it was trained" in err
    )
    assert "the file is damaged or was not written by xsq" in err


def test_test_fraction_and_a_report_that_cannot_be_printed(capsys, tmp_path, monkeypatch):
    code, out, err = run(capsys, "train", "--test-fraction", "0.3", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 2 and "--inputs, --outputs and --test-fraction apply to --data FILE.csv" in err

    class FullDisk(io.StringIO):  # stdout on a full disk: the report is written after the run is saved
        def write(self, text):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys, "stdout", FullDisk())
    code, out, err = run(capsys, "train", "--epochs", "30", "--restarts", "0", "--quiet", "--out", str(tmp_path / "s"))
    assert code == 1 and one_line(err) and "the run was saved to" in err and "No space left on device" in err
    assert (tmp_path / "s" / "model.npz").exists()


def test_reports_say_n_a_where_a_number_does_not_exist(capsys, tmp_path):
    argv = ["train", "--target", "sqrt(x)", "--low", "0", "--high", "1", "--epochs", "30", "--restarts", "0"]
    code, out, err = run(capsys, *argv, "--val-fraction", "0", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 0 and "nan" not in out.lower(), out
    assert "validation RMSE" in out and "n/a (no validation rows)" in out
    assert "n/a (sqrt(x) is 0 or not defined there)" in out
    zero = next(line.split() for line in out.splitlines() if line.split()[:1] == ["0"])  # the x = 0 row
    assert zero[3] == "n/a"  # no relative error at a zero target


def test_the_target_command_picks_the_output_as_fit_would_on_its_rows(capsys, tmp_path):
    import json

    argv = ["train", "--target", "2+sin(x)", "--low", "0", "--high", "6", "--epochs", "3", "--restarts", "0", "--quiet"]
    for n, output in (("200", "softplus"), ("1000", "identity")):  # 170 or 850 training rows; 490 are enough
        code, _, err = run(capsys, *argv, "--n", n, "--out", str(tmp_path / n))
        assert code == 0, err
        assert json.loads((tmp_path / n / "metrics.json").read_text())["output"] == output
