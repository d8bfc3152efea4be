"""Fit your own function (--target) or your own data (--data): the output follows the targets, and every bad
expression or row is refused in one line, with nothing run."""

import json
import os

import numpy as np
import pytest

from xsq.cli.main import main
from xsq.data.dataset import read_csv
from xsq.errors import InputError


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_target_expression(capsys, tmp_path):
    out_dir = tmp_path / "sin"
    code, out, err = run(
        capsys,
        "train",
        "--target",
        "sin(x)",
        "--low",
        "-3",
        "--high",
        "3",
        "--epochs",
        "150",
        "--restarts",
        "0",
        "--quiet",
        "--out",
        str(out_dir),
    )
    assert code == 0, err
    assert "output: identity (chosen because some targets are <= 0" in out and "slope sin(x)" in out
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["target"] == "sin(x)" and metrics["output"] == "identity" and metrics["test_rmse_over_range"] < 1e-5
    assert metrics["test_derivative_max_rel_error"] < 1e-2


SENTINEL = "xsq-expression-ran"


@pytest.mark.parametrize(
    "expression,message",
    [
        (f"__import__('os').system('touch {SENTINEL}')", "is not allowed"),
        ("x.real", "attribute 'x.real' is not allowed"),
        ("(lambda: 1)()", "is not allowed"),
        ("[x for x in ()]", "comprehension"),
        ("x" * 100_000, "characters long"),
        ("(" * 5000 + "x" + ")" * 5000, "characters long"),
        ("sin(" * 150 + "x" + ")" * 150, "nested more than 100 levels"),
        ("log(x)", "log\\(x\\) is undefined \\(NaN\\) somewhere on \\[-3, -1\\]"),
        ("exp(-1000*x)", "overflows float64"),
    ],
)
def test_bad_targets_are_refused_and_nothing_runs(capsys, tmp_path, monkeypatch, expression, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "train", "--target", expression, "--low", "-3", "--high", "-1", "--quiet")
    assert code == 2 and err.count("\n") == 1 and __import__("re").search(message, err), err
    assert not os.path.exists(SENTINEL) and not os.path.exists("runs")


def test_a_bayesian_target_fit_says_why_its_output_is_identity(capsys, tmp_path):
    flags = ("--low", "1", "--high", "3", "--epochs", "20", "--restarts", "0", "--quiet", "--out", str(tmp_path))
    code, out, err = run(capsys, "train", "--target", "x**2", "--regularization", "bayes", *flags)
    assert code == 0 and "output: identity (chosen because every target is > 0, but regularization is bayes" in out, err


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_relative_error_beyond_float64_is_called_that(capsys, tmp_path):
    x = np.random.default_rng(3).uniform(0, 1, 100)
    rows = "\n".join(f"{float(a)!r},{1e200 if a > 0.5 else 1e-200!r}" for a in x)
    path = write(tmp_path, "x,y\n" + rows + "\n")
    code, out, err = run(capsys, "train", "--data", path, "--epochs", "20", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 0 and "max relative error on the test rows  inf (beyond float64)" in out, err


@pytest.mark.plots
def test_measured_data(capsys, tmp_path):
    x = np.linspace(0.5, 4, 120)
    rows = "\n".join(f"{a},{np.sin(a) + 2},{a * a}" for a in x)
    path = write(tmp_path, "t,wave,square\n" + rows + "\n")
    code, out, err = run(
        capsys,
        "train",
        "--data",
        path,
        "--inputs",
        "t",
        "--outputs",
        "wave,2",
        "--epochs",
        "200",
        "--restarts",
        "0",
        "--quiet",
        "--out",
        str(tmp_path / "run"),
    )
    assert code == 0, err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["inputs"] == ["t"] and metrics["outputs"] == ["wave", "square"] and metrics["test_rows"] == 24
    assert metrics["test_rmse"] < 1e-2 and "(chosen because every target is > 0, but regularization is bayes" in out
    assert {"fit.png", "loss.png", "error.png", "model.npz"} <= set(os.listdir(tmp_path / "run"))
    ds = read_csv(path)
    assert ds.inputs == ("t", "wave") and ds.outputs == ("square",) and ds.X.shape == (120, 2)


@pytest.mark.parametrize(
    "text,args,message",
    [
        ("x,y\n1,2\n3,abc\n", [], "line 3, column 'y': 'abc' is not a number"),
        ("x,y\n1,2\n3,\n", [], "line 3, column 'y': missing value"),
        ("x,y\n1,2\n3,nan\n4,5\n", [], "line 3, column 'y': nan is not a finite number"),
        ("x,y\n1,inf\n3,4\n", [], "line 2, column 'y': inf is not a finite number"),
        ("x,y\n1,2\n3,4,5\n", [], "line 3: 3 columns, but the first row has 2"),
        ("x,y\n1,2\n", [], "has 1 data row; at least 3 are needed"),
        ("1,\n2,4\n3,9\n4,16\n", [], "line 1, column 'column 1': missing value"),  # not a header
        ("x,\n2,4\n3,9\n4,16\n", [], "line 1: the header has no name for column 1, counting from 0"),
        ("x,\x1b[2Jy\n2,4\n3,9\n4,16\n", [], r"line 1: the header's column names hold '\\x1b\[2Jy': a name must be"),
        ("x,x\n2,4\n3,9\n4,16\n", [], "line 1: the header's column names name the column 'x' twice"),
        ("x\ty\n2\t4\n3\t9\n", [], "looks tab-separated: xsq reads comma-separated values"),
        ("x,y\n1,2\n3," + "0" * 200_000 + "4\n5,nan\n", [], "line 3: not valid CSV \\(field larger than"),
        ("x,y\n", [], "holds no data rows, only a header"),
        ("1,2\n3,4\n", ["--inputs", "z"], "--inputs: no column 'z'; the columns are column 0, column 1"),
        ("x,y\n1,2\n3,4\n", ["--inputs", "x", "--outputs", "x"], "must be different columns"),
        ("x,y\n1,2\n3,4\n", ["--low", "0"], "--low describes a target function; it does not apply with --data"),
        ("x,y\n1,2\n3,4\n", [], r"has 2 data rows; at least 3 are needed \(training and test\)"),
        ("\ufeffx,y\n1,2\nabc,3\n4,5\n", [], "line 3, column 'x': 'abc' is not a number"),  # a BOM is no name
        (
            "x,y\n1,-2\n3,4\n5,6\n",
            ["--output", "softplus"],
            "softplus output can only produce values > 0.*--output identity",
        ),
    ],
)
def test_bad_data_is_named_by_line_and_column(capsys, tmp_path, text, args, message):
    code, out, err = run(
        capsys, "train", "--data", write(tmp_path, text), *args, "--quiet", "--out", str(tmp_path / "run")
    )
    assert code == 2 and err.count("\n") == 1 and __import__("re").search(message, err), err
    assert not (tmp_path / "run").exists()


def test_data_files_that_are_not_data(capsys, tmp_path):
    for path, message in ((tmp_path / "missing.csv", "does not exist"), (tmp_path, "is a directory")):
        code, _, err = run(capsys, "train", "--data", str(path), "--quiet")
        assert code == 2 and message in err
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00x")
    code, _, err = run(capsys, "train", "--data", str(tmp_path / "bin.csv"), "--quiet")
    assert code == 2 and "not UTF-8 text" in err
    code, _, err = run(capsys, "train", "--inputs", "x", "--quiet")
    assert code == 2 and "--inputs, --outputs and --test-fraction apply to --data" in err


def test_numpys_reader_and_the_cell_by_cell_scan_agree(tmp_path, monkeypatch):
    from xsq.data import dataset

    path = write(tmp_path, '\ufefft,"y"\r\n1, 2.5\r\n\r\n"3",4e-1\r\n-0.5,1e3\r\n')
    fast = read_csv(path)
    assert fast.inputs == ("t",) and fast.outputs == ("y",)
    assert np.array_equal(fast.X[:, 0], [1, 3, -0.5]) and np.array_equal(fast.Y[:, 0], [2.5, 0.4, 1e3])
    monkeypatch.setattr(dataset, "_fast", lambda *args: None)  # the scan alone reads the same numbers
    slow = read_csv(path)
    assert np.array_equal(slow.X, fast.X) and np.array_equal(slow.Y, fast.Y)
    monkeypatch.undo()
    monkeypatch.setattr(dataset, "_scan", lambda *args: pytest.fail("a clean file is read by numpy"))
    assert read_csv(write(tmp_path, "1,2\n3,4\n", "plain.csv")).X.shape == (2, 1)


def test_a_column_not_chosen_may_hold_text_and_a_chosen_one_may_not(tmp_path, capsys):
    from xsq.data.dataset import read_inputs

    path = write(tmp_path, 'x,notes,y\n1,"calm, dry",2\n3,,4\n5,gusty,6\n')
    ds = read_csv(path, inputs="x", outputs="y")
    assert np.array_equal(ds.X[:, 0], [1, 3, 5]) and np.array_equal(ds.Y[:, 0], [2, 4, 6]) and ds.inputs == ("x",)
    X, names = read_inputs(path, None, 1, trained=("x",))
    assert names == ("x",) and np.array_equal(X[:, 0], [1, 3, 5])
    with pytest.raises(InputError, match="line 2, column 'notes': 'calm, dry' is not a number"):
        read_csv(path, outputs="y")  # by default every column but the last is an input
    with pytest.raises(InputError, match="line 4: 2 columns, but the first row has 3"):
        read_csv(write(tmp_path, "x,notes,y\n1,a,2\n3,b,4\n5,c\n", "ragged.csv"), inputs="x", outputs="y")
    with pytest.raises(InputError, match="--inputs: no column 'z'"):  # told before any cell is read
        read_csv(write(tmp_path, "x,y\n1,2\n3,oops\n", "bad.csv"), inputs="z")
    headless = write(tmp_path, "1,calm,2\n3,gusty,6\n5,dry,10\n", "headless.csv")  # its first row is data
    with pytest.raises(InputError, match="line 1 may be data or the header: it holds text \\('calm'\\) where line 2"):
        read_csv(headless, inputs="0", outputs="2")
    named = write(tmp_path, "400,500,y\n0.25,0.5,1\n0.75,1,2\n", "numeric_names.csv")  # a header of numbers
    X, names = read_inputs(named, "400,500", 2)
    assert names == ("400", "500") and np.array_equal(X, [[0.25, 0.5], [0.75, 1]])
    ds = read_csv(named, inputs="400", outputs="500")
    assert np.array_equal(ds.X[:, 0], [0.25, 0.75]) and np.array_equal(ds.Y[:, 0], [0.5, 1])
    numbers = write(tmp_path, "1,2,y\n1,2,3\n4,5,6\n", "names_of_numbers.csv")  # '1' names column 0
    with pytest.raises(
        InputError, match="'0' and '1' both choose column 0 \\(1; a column's name comes before an index"
    ):
        read_csv(numbers, inputs="0,1", outputs="2")
    assert read_csv(numbers, inputs="1,2", outputs="y").X.tolist() == [[1, 2], [4, 5]]  # by name
    notes = write(tmp_path, "400,notes,500\n0.25,12,0.5\n0.75,calm,1\n", "numeric_names_and_notes.csv")
    ds = read_csv(notes, inputs="400", outputs="500")  # read cell by cell, its first data row looked at first
    assert np.array_equal(ds.X[:, 0], [0.25, 0.75]) and np.array_equal(ds.Y[:, 0], [0.5, 1])


@pytest.mark.parametrize("reader", ["numpy", "scan"])
def test_chosen_columns_come_in_the_order_chosen_by_either_reader(tmp_path, monkeypatch, reader):
    from xsq.data import dataset

    used = []
    fast, scan = dataset._fast, dataset._scan
    monkeypatch.setattr(
        dataset, "_fast", lambda *args: None if reader == "scan" else used.append("numpy") or fast(*args)
    )
    monkeypatch.setattr(dataset, "_scan", lambda *args: used.append("scan") or scan(*args))
    ds = read_csv(write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n"), inputs="c,a", outputs="b")
    assert np.array_equal(ds.X, [[3, 1], [6, 4]]) and np.array_equal(ds.Y, [[2], [5]]) and ds.inputs == ("c", "a")
    assert used == [reader]
