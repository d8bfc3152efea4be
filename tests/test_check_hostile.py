"""xsq check against hostile and unusual learner files: what their code does is reported as theirs, correct
code in an unusual encoding or with a guarded import is checked, and bad input to check_backprop is an
InputError."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xsq
from xsq.checks.verdicts import factor_text
from xsq.cli.main import main
from xsq.core.net import manual_grad


def right(params, X, Y):
    return manual_grad(params, X, Y)


def check(capsys, path, *args):
    """``xsq check`` with --json: (exit status, the report or None, stderr)."""
    status = main(["check", str(path), *args, "--json"])
    out = capsys.readouterr()
    return status, (json.loads(out.out) if out.out else None), out.err


def write(tmp_path, text, name="mine.py", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


GOOD = """import numpy as np
def sig(z):
    return 1 / (1 + np.exp(-z))
def good(params, X, Y):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = X @ W1 + b1
    A1 = sig(Z1)
    Z2 = A1 @ W2 + b2
    A2 = np.logaddexp(0, Z2)
    dZ2 = 2 * (A2 - Y) / Y.size * sig(Z2)
    dZ1 = dZ2 @ W2.T * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(0), "W2": A1.T @ dZ2, "b2": dZ2.sum(0)}
"""


@pytest.mark.parametrize("stop", ["sys.exit(0)", "sys.exit(3)", "raise GeneratorExit"])
def test_their_sys_exit_is_their_exception_not_the_end_of_xsq(capsys, tmp_path, stop):
    path = write(tmp_path, GOOD + f"import sys\ndef g(params, X, Y):\n    {stop}\n")
    line = GOOD.count("\n") + 3
    status, report, err = check(capsys, path, "--function", "g")
    assert (status, err) == (1, "") and report["overall"] == "wrong"
    for c in report["checks"]:
        assert c["raised"]["line"] == line and c["raised"]["type"] in ("SystemExit", "GeneratorExit")


def test_sys_exit_while_loading_or_building_the_object_is_bad_input(capsys, tmp_path):
    path = write(tmp_path, GOOD + "import sys\nstopped = sys.exit(0)\n")
    status, report, err = check(capsys, path, "--function", "good")
    assert status == 2 and "loading it raised SystemExit" in err and err.count("\n") == 1


def test_an_update_calling_sys_exit(capsys, tmp_path):
    src = (Path(__file__).parent / "check_corpus" / "question.py").read_text()
    old = "        self.dA2 = (self.A2 - Y)"
    path = write(tmp_path, src.replace(old, "        import sys; sys.exit(5)\n" + old, 1))
    status, report, err = check(capsys, path, "--object", "Neural_Net(1, 16, 1)")
    assert (status, err) == (1, "") and report["checks"][0]["raised"]["type"] == "SystemExit"


def test_their_prints_to_stderr_are_silenced(capsys, tmp_path):
    path = write(
        tmp_path, GOOD + "import sys\ndef g(p, X, Y):\n    print('noise', file=sys.stderr)\n    return good(p, X, Y)\n"
    )
    status, report, err = check(capsys, path, "--function", "g")
    assert (status, err, report["overall"]) == (0, "", "ok")


@pytest.mark.parametrize(
    "text,encoding",
    [
        ("\ufeff" + GOOD, "utf-8"),  # saved with a byte-order mark (Windows editors)
        ("# -*- coding: latin-1 -*-\nNAME = 'café'\n" + GOOD, "latin-1"),  # a coding comment, as Python reads it
    ],
)
def test_files_python_reads_are_read(capsys, tmp_path, text, encoding):
    status, report, err = check(capsys, write(tmp_path, text, encoding=encoding), "--function", "good")
    assert (status, err, report["overall"]) == (0, "", "ok")


def test_an_import_guarded_by_try_is_kept(capsys, tmp_path):
    text = "try:\n    import autograd.numpy as anp\nexcept ImportError:\n    import numpy as anp\n" + GOOD
    text += "def g(p, X, Y):\n    return {k: anp.array(v) for k, v in good(p, X, Y).items()}\n"
    text += "try:\n    while True:\n        pass\nexcept Exception:\n    pass\n"  # a loop inside a try never runs
    status, report, err = check(capsys, write(tmp_path, text), "--function", "g")
    assert (status, err, report["overall"]) == (0, "", "ok")


def test_a_directory_or_fifo_is_not_a_file(capsys, tmp_path):
    folder = tmp_path / "folder.py"
    folder.mkdir()
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    for path in (folder, fifo):
        status, _, err = check(capsys, path, "--function", "g")
        assert status == 2 and "not a file" in err and err.count("\n") == 1


def test_complex_numbers_with_imaginary_parts_are_not_a_gradient(capsys, tmp_path):
    path = write(tmp_path, GOOD + "def g(p, X, Y):\n    d = good(p, X, Y)\n    d['W1'] = d['W1'] + 1j\n    return d\n")
    status, report, err = check(capsys, path, "--function", "g")
    assert (status, err) == (1, "")
    assert {c["params"]["W1"]["verdict"] for c in report["checks"]} == {"wrong"}


def test_one_number_of_the_wrong_size_and_sign_is_not_a_sign_error():
    def gradient(params, X, Y):
        g = manual_grad(params, X, Y)
        return {**g, "b2": -3.7 * g["b2"]}

    report = xsq.check_backprop(gradient)
    assert {c.params["b2"].verdict for c in report.checks} == {"wrong"}

    def flipped(params, X, Y):
        g = manual_grad(params, X, Y)
        return {**g, "b2": -g["b2"]}

    assert {c.params["b2"].verdict for c in xsq.check_backprop(flipped).checks} == {"sign"}


def test_a_huge_factor_is_written_short():
    assert factor_text(1e300) == "1e+300" and factor_text(0.5) == "1/2" and factor_text(4.0) == "4"


THEIR_OBJECTS = {
    "a dict whose lookups raise": "class D(dict):\n    def __contains__(self, k):\n        raise RuntimeError('x')\n"
    "def g(p, X, Y):\n    return D(good(p, X, Y))\n",
    "an array-like that raises": "class A:\n    def __array__(self, dtype=None, copy=None):\n"
    "        raise RuntimeError('x')\n"
    "def g(p, X, Y):\n    d = good(p, X, Y)\n    d['W1'] = A()\n    return d\n",
    "an exception whose message raises": "class E(Exception):\n    def __str__(self):\n        raise ValueError('x')\n"
    "def g(p, X, Y):\n    raise E()\n",
}


@pytest.mark.parametrize("case", THEIR_OBJECTS)
def test_their_objects_misbehaving_are_theirs_not_an_internal_error(capsys, tmp_path, case):
    status, report, err = check(capsys, write(tmp_path, GOOD + THEIR_OBJECTS[case]), "--function", "g")
    assert (status, err, report["overall"]) == (1, "", "wrong")


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(gradient=None), "gradient must be a function"),
        (dict(gradient=3), "gradient must be a function"),
        (dict(gradient=right, batch=10**9), "batch"),
        (dict(gradient=right, objective=3, example=lambda: 0), "objective must be a function"),
        (
            dict(gradient=right, objective=lambda p, X, Y: 0.0, example=lambda: ({"W": "x"}, [[1.0]], [[1.0]])),
            "arrays of numbers",
        ),
    ],
)
def test_check_backprop_bad_input_is_an_input_error(kwargs, message):
    gradient = kwargs.pop("gradient")
    with pytest.raises(xsq.InputError, match=message):
        xsq.check_backprop(gradient, **kwargs)


def test_check_backprop_names_the_line_of_their_own_file_not_of_xsq():
    def broken(params, X, Y):
        return np.linalg.inv(np.zeros((2, 2)))  # raised inside numpy, from this line

    line = broken.__code__.co_firstlineno + 1
    assert {c.raised.line for c in xsq.check_backprop(broken).checks} == {line}


OBJECTS = """import numpy as np
class Net:
    learning_rate = 0.1
    def forward_prop(self, X):
        pass
    def back_prop(self, X, Y):
        pass
class Every(Net):
    def __getattr__(self, name):
        return np.ones((3, 3))
class Prop(Net):
    @property
    def W1(self):
        raise RuntimeError("not yet")
class BigRate(Net):
    def __init__(self):
        self.W1, self.b1 = np.ones((1, 4)), np.ones(4)
        self.learning_rate = 10**400
"""


@pytest.mark.parametrize(
    "expression,message",
    [
        ("Every()", "beyond W100"),  # W1, W2, ... without end
        ("Prop()", "raised RuntimeError: not yet (line 14"),
        ("BigRate()", "raised OverflowError"),
    ],
)
def test_an_object_whose_attributes_misbehave_is_bad_input(capsys, tmp_path, expression, message):
    status, _, err = check(capsys, write(tmp_path, OBJECTS), "--object", expression)
    assert status == 2 and message in err and err.count("\n") == 1 and "internal error" not in err


def test_their_code_cannot_keep_ctrl_c_from_stopping_xsq(tmp_path):
    from xsq.checks.learner_file import load

    before = signal.getsignal(signal.SIGINT)
    path = write(tmp_path, GOOD + "import signal\nold = signal.signal(signal.SIGINT, signal.SIG_IGN)\n")
    load(str(path))
    assert signal.getsignal(signal.SIGINT) is before


def test_their_os_exit_is_their_exception_not_a_silent_success(tmp_path):
    # os._exit would end xsq at once with their status (0: a success with nothing said); run apart from the suite
    path = write(tmp_path, GOOD + "import os\ndef g(params, X, Y):\n    os._exit(0)\n")
    done = subprocess.run(
        [sys.executable, "-m", "xsq", "check", str(path), "--function", "g", "--json"], capture_output=True, text=True
    )
    assert done.returncode == 1 and json.loads(done.stdout)["checks"][0]["raised"]["type"] == "SystemExit"
