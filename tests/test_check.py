"""xsq check: a corpus of hand-written backprops (tests/check_corpus), each array's verdict, layer and factor.

Every case runs the command in-process with --json and asserts the exact verdicts of both checks (one sample,
then a batch of 8). The reference is xsq's autograd gradient; the learners' files are kept as they wrote them.
"""

import json
import time
from pathlib import Path

import pytest

import xsq
from xsq.checks.learner_file import load
from xsq.cli.main import main
from xsq.core.net import manual_grad
from xsq.errors import InputError
from xsq.lab.diagnose import compare_update

CORPUS = Path(__file__).parent / "check_corpus"
NET = ("W1", "b1", "W2", "b2")
DEEP = ("W1", "b1", "W2", "b2", "W3", "b3")
DEEP_ARGS = ["--sizes", "2,6,5,3", "--activation", "tanh", "--output", "identity"]
OK = ("ok", None, None)


def run(capsys, *args):
    """``xsq check`` on a corpus file with --json: (exit status, the parsed report)."""
    status = main(["check", str(CORPUS / args[0]), *args[1:], "--json"])
    out = capsys.readouterr()
    return status, (json.loads(out.out) if out.out else None), out.err


def every(names, verdict):
    return dict.fromkeys(names, verdict)


def agree(check, expected):
    got = {k: (v["verdict"], v["factor"], v["layer"]) for k, v in check["params"].items()}
    assert got == expected, check


# (arguments, exit status, [(overall, verdicts) with one sample, (overall, verdicts) with 8])
CASES = {
    "function, right": (
        ["network_functions.py", "--function", "right"],
        0,
        [("ok", every(NET, OK)), ("ok", every(NET, OK))],
    ),
    "function, 1/2 squared error (dW1, db1 keys)": (
        ["network_functions.py", "--function", "half_squared_error"],
        0,
        [("consistent", every(NET, ("scaled", 0.5, None))), ("consistent", every(NET, ("scaled", 4.0, None)))],
    ),
    "function, a constant's augmented assignment runs": (
        ["network_functions.py", "--function", "halved_by_a_constant"],
        0,
        [("consistent", every(NET, ("scaled", 0.5, None)))] * 2,
    ),
    "function, per-sample loop summed": (
        ["network_functions.py", "--function", "per_sample"],
        0,
        [("consistent", every(NET, ("scaled", 0.5, None))), ("consistent", every(NET, ("scaled", 4.0, None)))],
    ),
    "function, output slope left out": (
        ["network_functions.py", "--function", "no_output_slope"],
        1,
        [("wrong", every(NET, ("missing_derivative", None, 2)))] * 2,
    ),
    "function, slope at the output of the hidden layer": (
        ["network_functions.py", "--function", "slope_of_output"],
        1,
        [("wrong", {**every(NET[:2], ("derivative_of_output", None, 1)), **every(NET[2:], OK)})] * 2,
    ),
    "function, tanh's slope for a sigmoid": (
        ["network_functions.py", "--function", "tanh_slope"],
        1,
        [("wrong", {**every(NET[:2], ("wrong_derivative", None, 1)), **every(NET[2:], OK)})] * 2,
    ),
    "function, Z1 for A1": (
        ["network_functions.py", "--function", "z_for_a"],
        1,
        [("wrong", {**every(NET, OK), "W2": ("wrong_input", None, 2)})] * 2,
    ),
    "function, ascent": (
        ["network_functions.py", "--function", "ascent"],
        1,
        [("wrong", every(NET, ("sign", -1.0, None)))] * 2,
    ),
    "function, a slope by a forward difference": (
        ["network_functions.py", "--function", "slope_by_difference"],
        1,
        [("wrong", {**every(NET[:2], ("wrong", None, None)), **every(NET[2:], OK)})] * 2,
    ),
    "function, zeros explained by no mistake": (
        ["network_functions.py", "--function", "zero_b1", "--sizes", "2,5,1"],  # relu's slope would give zeros
        1,
        [("wrong", {**every(NET, OK), "b1": ("wrong", None, None)})] * 2,
    ),
    "function, printing while it computes": (
        ["network_functions.py", "--function", "chatty"],
        0,
        [("ok", every(NET, OK))] * 2,
    ),
    "function, biases averaged, a tuple": (
        ["network_functions.py", "--function", "bias_mean"],
        1,
        [("ok", every(NET, OK)), ("wrong", {**every(NET, OK), **every(("b1", "b2"), ("scaled", 0.125, None))})],
    ),
    "function, lower-case keys": (
        ["network_functions.py", "--function", "lower_case_keys"],
        0,
        [("ok", every(NET, OK))] * 2,
    ),
    "function, bias rows": (
        ["network_functions.py", "--function", "bias_rows"],
        1,
        [("ok", every(NET, OK)), ("wrong", {**every(NET, OK), "b1": ("not_summed", None, None)})],
    ),
    "function, per-sample loop with rows kept": (
        ["network_functions.py", "--function", "per_sample_rows"],
        1,
        [("ok", every(NET, OK)), ("wrong", {**every(NET, OK), **every(("b1", "b2"), ("not_summed", None, None))})],
    ),
    "function, bias summed to one number": (
        ["network_functions.py", "--function", "bias_total"],
        1,
        [("wrong", {**every(NET, OK), "b1": ("shape", None, None)})] * 2,
    ),
    "function, b2 not returned": (
        ["network_functions.py", "--function", "forgot_b2"],
        1,
        [("wrong", {**every(NET, OK), "b2": ("missing", None, None)})] * 2,
    ),
    "function, overflow": (
        ["network_functions.py", "--function", "overflow"],
        1,
        [("wrong", {**every(NET, OK), "W2": ("nonfinite", None, None)})] * 2,
    ),
    "function, a typo": (
        ["network_functions.py", "--function", "typo"],
        1,
        [("wrong", {**every(NET, OK), "W1": ("wrong", None, None)})] * 2,
    ),
    "function, a factor on one array only": (
        ["network_functions.py", "--function", "twice_w2"],
        1,
        [("wrong", {**every(NET, OK), "W2": ("scaled", 2.0, None)})] * 2,
    ),
    "deeper, several outputs, right": (
        ["deep_functions.py", "--function", "right", *DEEP_ARGS],
        0,
        [("ok", every(DEEP, OK))] * 2,
    ),
    "deeper, sum over the outputs": (
        ["deep_functions.py", "--function", "sum_over_outputs", *DEEP_ARGS],
        0,
        [("consistent", every(DEEP, ("scaled", 3.0, None)))] * 2,
    ),
    "deeper, slope at the output in every layer": (
        ["deep_functions.py", "--function", "slope_of_output_everywhere", *DEEP_ARGS],
        1,
        [
            (
                "wrong",
                {
                    **every(DEEP[:2], ("derivative_of_output", None, 1)),
                    **every(DEEP[2:4], ("derivative_of_output", None, 2)),
                    **every(DEEP[4:], OK),
                },
            )
        ]
        * 2,
    ),
    "deeper still, slope at the output in every layer (three mistakes)": (
        ["deep_functions.py", "--function", "slope_of_output_everywhere", *DEEP_ARGS, "--sizes", "2,6,5,4,3"],
        1,
        [
            (
                "wrong",
                {
                    **{f"{p}{i}": ("derivative_of_output", None, i) for i in (1, 2, 3) for p in "Wb"},
                    **every(("W4", "b4"), OK),
                },
            )
        ]
        * 2,
    ),
    "deeper, transposed": (
        ["deep_functions.py", "--function", "transposed", *DEEP_ARGS],
        1,
        [("wrong", {**every(DEEP, OK), **every(("W1", "W2"), ("transposed", None, None))})] * 2,
    ),
    "deeper, a square matrix transposed": (
        ["deep_functions.py", "--function", "square_transposed", *DEEP_ARGS, "--sizes", "2,4,4,3"],
        1,
        [("wrong", {**every(DEEP, OK), "W2": ("transposed", None, None)})] * 2,
    ),
    "object, the question's class with its bias updates summed": (
        ["classes.py", "--object", "Summed((1, 16, 1))"],
        0,
        [("consistent", every(NET, ("scaled", 0.5, None))), ("consistent", every(NET, ("scaled", 4.0, None)))],
    ),
    "object, hidden slope left out, other names": (
        ["classes.py", "--object", "NoHiddenSlope((2, 8, 1))", "--forward", "predict", "--update", "step"]
        + ["--lr-attribute", "lr"],
        1,
        [
            ("wrong", {**every(NET[:2], ("missing_derivative", c, 1)), **every(NET[2:], ("scaled", c, None))})
            for c in (0.5, 4.0)
        ],
    ),
    "object, tanh hidden units, told": (
        ["classes.py", "--object", "TanhHidden((1, 16, 1))", "--activation", "tanh"],
        0,
        [("consistent", every(NET, ("scaled", 0.5, None))), ("consistent", every(NET, ("scaled", 4.0, None)))],
    ),
    "object, the two slopes swapped": (
        ["classes.py", "--object", "Swapped((1, 16, 1))"],
        1,
        [("wrong", {k: ("wrong_derivative", c, int(k[1])) for k in NET}) for c in (0.5, 4.0)],
    ),
    "object, ascent and b2 not updated": (
        ["classes.py", "--object", "Ascends((1, 5, 1))"],
        1,
        [("wrong", {**every(NET[:3], ("sign", -1.0, None)), "b2": ("missing", None, None)})] * 2,
    ),
    "object, samples in columns": (
        ["classes.py", "--object", "Columns(3, 4, 2)", "--forward", "forward", "--update", "backward"]
        + ["--activation", "tanh", "--output", "sigmoid", "--lr", "0.1"],
        0,
        [("ok", every(NET, OK))] * 2,
    ),
    "object, samples in columns, one input and one output": (
        ["classes.py", "--object", "Columns(1, 16, 1)", "--forward", "forward", "--update", "backward"]
        + ["--activation", "tanh", "--output", "sigmoid", "--lr", "0.1"],
        0,
        [("consistent", every(NET, ("scaled", 0.5, None)))] * 2,
    ),
    "own model, right": (
        ["own_model.py", "--function", "right", "--objective", "loss", "--example", "example"],
        0,
        [("ok", every("abc", OK))] * 2,
    ),
    "own model, 1/2 squared error": (
        ["own_model.py", "--function", "half", "--objective", "loss", "--example", "example"],
        0,
        [("consistent", every("abc", ("scaled", 0.5, None))), ("consistent", every("abc", ("scaled", 3.0, None)))],
    ),
    "own model, rows and a sign": (
        ["own_model.py", "--function", "per_row", "--objective", "loss", "--example", "example"],
        1,
        [
            ("wrong", {"a": OK, "b": OK, "c": ("sign", -1.0, None)}),
            ("wrong", {"a": OK, "b": ("not_summed", None, None), "c": ("sign", -1.0, None)}),
        ],
    ),
    "own model, central differences where autograd cannot trace": (
        ["own_model.py", "--function", "untraceable_right", "--objective", "untraceable_loss"]
        + ["--example", "example"],
        0,
        [("ok", every("abc", OK))] * 2,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_corpus(capsys, name):
    args, status, expected = CASES[name]
    got, report, err = run(capsys, *args)
    assert (got, err) == (status, "")
    overalls = {overall for overall, _ in expected}
    assert report["overall"] == next(o for o in ("wrong", "consistent", "ok") if o in overalls)
    assert [c["batch"] for c in report["checks"]] == [1, 6 if args[0] == "own_model.py" else 8]
    for check, (_, verdicts) in zip(report["checks"], expected):
        assert check["raised"] is None
        agree(check, verdicts)


def test_every_verdict_is_exercised():
    seen = {v[0] for _, _, checks in CASES.values() for _, verdicts in checks for v in verdicts.values()}
    from xsq.checks.verdicts import VERDICTS

    assert seen == set(VERDICTS)


def test_the_question_is_consistent_for_one_sample_and_wrong_for_a_batch(capsys):
    status, report, _ = run(capsys, "question.py", "--object", "Neural_Net(1, 1, 1)")
    single, batch = report["checks"]
    assert status == 1 and report["overall"] == "wrong"
    assert single["raised"] is None
    agree(single, every(NET, ("scaled", 0.5, None)))
    assert "½·squared error" in single["params"]["W1"]["message"]
    assert "N/2 = 4" in batch["params"]["W1"]["message"]
    line = line_of("question.py", "self.b1 -= self.learning_rate*self.dA1")
    assert batch["raised"]["type"] == "ValueError" and batch["raised"]["line"] == line == 55
    agree(
        batch,
        {
            "W1": ("scaled", 4.0, None),
            "b1": ("not_summed", None, None),
            "W2": ("missing", None, None),
            "b2": ("missing", None, None),
        },
    )
    why = batch["params"]["b1"]["message"]
    assert "line 55 (self.b1 -= self.learning_rate*self.dA1)" in why and "one row per sample, shape (8, 1)" in why
    assert "self.dA1.sum(axis=0, keepdims=True)" in why
    assert run(capsys, "question.py", "--object", "NN1")[1] == report  # the question's own network, as posted
    assert main(["check", str(CORPUS / "question.py"), "--object", "Neural_Net(1, 1, 1)"]) == 1
    text = capsys.readouterr().out
    assert "With one sample: consistent" in text and "With a batch of 8: wrong" in text
    assert "your code raised ValueError at line 55" in text


@pytest.mark.parametrize(
    "obj, found",
    [
        ("TanhHidden((1, 16, 1))", "tanh hidden units and output softplus"),
        ("TanhFlat((1, 16, 1))", "tanh hidden units and output softplus"),  # its output a flat vector
        ("Columns(1, 16, 1) --forward forward --update backward --lr 0.1", "tanh hidden units and output sigmoid"),
    ],
)
def test_an_object_checked_against_another_network_is_told_which_its_forward_pass_computes(capsys, obj, found):
    """Right code for a tanh network, checked as the default sigmoid one, was called wrong, slope by slope."""
    expression, *options = obj.split(" --")
    options = [word for o in options for word in f"--{o}".split()]
    assert main(["check", str(CORPUS / "classes.py"), "--object", expression, *options]) == 2
    err = capsys.readouterr().err
    hidden, output = found.split()[0], found.split()[-1]
    assert (
        err.count("\n") == 1
        and (f"computes {found}, not sigmoid and softplus: give --activation {hidden} --output {output}") in err
    )
    assert main(["check", str(CORPUS / "classes.py"), "--object", "Swapped((1, 16, 1))"]) == 1  # a real mistake


def test_a_forward_pass_several_networks_give_is_not_named(monkeypatch):
    from types import SimpleNamespace

    import numpy as np

    from xsq.checks import forms
    from xsq.core.net import forward

    positive = {"W1": np.array([[1.0, 2.0]]), "b1": np.full(2, 0.5), "W2": np.ones((2, 1)), "b2": np.full(1, 0.1)}
    monkeypatch.setattr(forms, "random_problem", lambda *a: (positive, np.array([[1.0], [2.0]]), None))
    theirs = SimpleNamespace(outputs=lambda p, X: forward(p, X, "relu", "identity"))
    # every input and unit is > 0 there: relu and identity agree, in either layer
    assert forms.network_of(theirs, (1, 2, 1), 0, 8, ("sigmoid", "softplus")) is None
    assert forms.network_of(theirs, (1, 2, 1), 0, 8, ("identity", "relu")) == ("identity", "relu")
    theirs = SimpleNamespace(outputs=lambda p, X: forward(p, X, "tanh", "softplus"))
    assert forms.network_of(theirs, (1, 2, 1), 0, 8, ("sigmoid", "softplus")) == ("tanh", "softplus")
    assert forms.network_of(SimpleNamespace(outputs=lambda p, X: None), (1, 2, 1), 0, 8, ("sigmoid", "relu")) is None


def test_an_object_that_will_not_take_other_weights_is_its_codes_doing(capsys):
    assert main(["check", str(CORPUS / "classes.py"), "--object", "ReadOnly((1, 4, 1))"]) == 1
    out, err = capsys.readouterr()
    assert err == "" and "your code raised AttributeError" in out


@pytest.mark.parametrize(
    "objective, example, message",
    [
        ("nan_loss", "example", "the objective is nan at the example"),
        ("nan_valued_loss", "example", "the objective is nan at the example"),  # its gradient is finite
        ("inf_beside", "example", "the objective's gradient at the example is not finite (NaN or inf)"),
        ("loss", "nan_example", "the example's b holds NaN or inf"),
        ("loss", "nan_x_example", "the example's X holds NaN or inf"),
    ],
)
def test_a_reference_that_is_not_finite_is_the_inputs_fault_not_the_learners(capsys, objective, example, message):
    args = ["--function", "right", "--objective", objective, "--example", example]
    assert main(["check", str(CORPUS / "own_model.py"), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_json_has_exactly_the_documented_structure(capsys):
    _, report, _ = run(capsys, "question.py", "--object", "Neural_Net(1, 1, 1)")
    assert set(report) == {"overall", "checks"}
    for check in report["checks"]:
        assert set(check) == {"batch", "raised", "params"}
        assert check["raised"] is None or set(check["raised"]) == {"type", "message", "line"}
        for entry in check["params"].values():
            assert set(entry) == {"verdict", "factor", "layer", "index", "message"}
    _, report, _ = run(capsys, "network_functions.py", "--function", "typo")
    assert [c["params"]["W1"]["index"] for c in report["checks"]] == [[0, 3], [0, 3]]


def line_of(file: str, text: str) -> int:
    """The 1-based number of the line of the corpus file holding ``text``."""
    return next(i for i, line in enumerate((CORPUS / file).read_text().splitlines(), 1) if text in line)


def test_what_the_learners_code_raises_is_theirs_with_its_line(capsys):
    for args, text in (
        (["network_functions.py", "--function", "undefined_name"], '"W1": X.T @ dZ1}'),
        (["classes.py", "--object", "Broken((1, 3, 1))"], 'raise RuntimeError("not written yet")'),
        (["network_functions.py", "--function", "singular"], "np.linalg.inv"),  # raised inside numpy
    ):
        line = line_of(args[0], text)
        status, report, err = run(capsys, *args)
        assert (status, err) == (1, "")
        for check in report["checks"]:
            assert check["raised"]["line"] == line
            assert check["raised"]["type"] in ("NameError", "RuntimeError", "LinAlgError")
            assert {v["verdict"] for v in check["params"].values()} == {"missing"}
            assert check["params"]["b1"]["message"] == f"b1 was not reached: line {line} raised first"


def test_the_file_is_loaded_silently_with_its_definitions_only(capsys):
    started = time.perf_counter()
    question = load(str(CORPUS / "question.py"))  # a training loop of 10,000 printing steps at the top level
    classes = load(str(CORPUS / "classes.py"))  # a loop of 10**9 steps at the top level
    functions = load(str(CORPUS / "network_functions.py"))  # a print and a loop at the top level
    assert time.perf_counter() - started < 1.0 and capsys.readouterr().out == ""
    assert callable(question.namespace["softplus_grad"]) and "epoch" not in question.namespace
    assert "net" in classes.namespace and "epoch" not in classes.namespace and "step" not in functions.namespace


@pytest.mark.parametrize(
    "args,message",
    [
        (["nowhere.py", "--function", "f"], "no such file"),
        (["network_functions.py", "--function", "nothing"], "defines no function 'nothing'"),
        (["network_functions.py"], "exactly one of --function NAME and --object EXPR"),
        (["question.py", "--object", "Neural_Net(1, 1, 1)", "--update", "train_all"], "no method 'train_all'"),
        (["question.py", "--object", "Neural_Net(1, 1, 1)", "--sizes", "1,4,4,1"], "--sizes gives 3 layers"),
        (["question.py", "--object", "Neural_Net(1, 1)"], "raised TypeError"),
        (["question.py", "--object", "Neural_Net(1, 1, 1)", "--lr-attribute", "rate"], "no positive number 'rate'"),
        (["classes.py", "--object", "Broken.__new__(Broken)"], "no 2-D weight arrays"),
        (["own_model.py", "--function", "right", "--objective", "loss"], "--objective and --example together"),
        (["network_functions.py", "--function", "right", "--batch", "1"], "--batch"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    args = [str(CORPUS / args[0]) if args[0] != "nowhere.py" else args[0], *args[1:]]
    assert main(["check", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "internal error" not in err


def test_a_file_that_cannot_load_is_bad_input(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import numpy as np\n\nx = np.zeros(3)\ny = x[7]\n")
    with pytest.raises(InputError, match=r"line 4: loading it raised IndexError"):
        load(str(bad))
    bad.write_text("def f(:\n")
    with pytest.raises(InputError, match=r"line 1"):
        load(str(bad))


def test_the_question_on_a_wider_network_is_wrong_for_the_batch_and_fine_alone(capsys):
    status, report, _ = run(capsys, "question.py", "--object", "Neural_Net(1, 16, 1)", "--sizes", "1,16,1")
    assert status == 1 and report["checks"][0]["params"]["W1"]["verdict"] == "scaled"
    assert report["checks"][1]["params"]["b1"]["verdict"] == "not_summed"


def test_one_check_is_quick(capsys):
    # both checks of a three-layer network with every known mistake tried: about 0.2 s (the issue asks for well
    # under 5 s; the margin is for a busy machine)
    started = time.process_time()
    run(capsys, "deep_functions.py", "--function", "right", *DEEP_ARGS, "--sizes", "2,32,32,3")
    assert time.process_time() - started < 1.5


def correct(activation, output, loss, factor=1.0):
    def gradient(params, X, Y):
        return {k: factor * v for k, v in manual_grad(params, X, Y, activation, output, loss).items()}

    return gradient


NAMES = list(xsq.ACTIVATIONS)


@pytest.mark.parametrize("activation,output", [(a, NAMES[(i + j) % 5]) for i, a in enumerate(NAMES) for j in (0, 2)])
def test_correct_code_is_never_called_wrong(activation, output):
    loss = list(xsq.losses.LOSSES)[(NAMES.index(activation) + NAMES.index(output)) % len(xsq.losses.LOSSES)]
    sizes = (2, 5, 4, 3) if NAMES.index(activation) % 2 else (1, 16, 1)
    seed = NAMES.index(output)
    settings = dict(sizes=sizes, activation=activation, output=output, loss=loss, seed=seed)
    assert xsq.check_backprop(correct(activation, output, loss), **settings).overall == "ok"
    report = xsq.check_backprop(correct(activation, output, loss, 0.5), **settings)
    # "ok" only where the gradient is all zeros (a relu output below 0), which any factor leaves as it is
    assert {c.overall for c in report.checks} <= {"consistent", "ok"}
    assert {c.factor for c in report.checks if c.overall == "consistent"} <= {0.5}
    assert output == "relu" or report.overall == "consistent"


def test_the_library_returns_typed_results():
    from xsq.checks.backprop_check import Report
    from xsq.checks.classify import Check
    from xsq.checks.verdicts import ParamVerdict

    report = xsq.check_backprop(correct("sigmoid", "softplus", "mse"), batch=4)
    assert isinstance(report, Report) and all(isinstance(c, Check) for c in report.checks)
    verdict = report.checks[1].params["b1"]
    assert isinstance(verdict, ParamVerdict) and verdict.shape == verdict.expected == (16,)
    with pytest.raises(AttributeError):
        verdict.verdict = "wrong"


def test_diagnose_asks_the_check_and_hears_one_row_per_sample():
    import numpy as np

    from xsq.lab import question as q

    params = q.init(np.random.default_rng(0))
    assert compare_update(params, np.array([[7.0]]), np.array([[49.0]])) == (True, 0.0, [])
    match, diff, shapes = compare_update(params, np.full((8, 1), 3.0), np.full((8, 1), 9.0))
    assert not match and diff is None and len(shapes) == 2 and all("one row per sample" in s for s in shapes)


def test_every_mistake_kind_is_one_the_backward_pass_makes():
    from typing import get_args

    import autograd
    import numpy as np

    from xsq.checks.mistakes import Kind, Mistake, mistaken_grad
    from xsq.core.net import forward, forward_pass

    params = xsq.init_params((1, 3, 1), seed=0)
    X = np.linspace(0.5, 1.5, 4)[:, None]
    passes = forward_pass(params, X, "sigmoid", "softplus")
    dA = np.ones((4, 1))
    right = mistaken_grad(params, passes, dA, "sigmoid", "softplus", ())
    exact = autograd.grad(lambda p: forward(p, X, "sigmoid", "softplus").sum())(params)  # dA = 1: of the sum
    assert right.keys() == exact.keys()  # no mistake: the gradient
    assert all(np.allclose(right[key], exact[key], rtol=1e-13, atol=0) for key in exact)
    for kind in get_args(Kind):  # each kind changes the gradient
        made = (Mistake(kind, 2, "tanh" if kind == "wrong_derivative" else "Z"),)
        grads = mistaken_grad(params, passes, dA, "sigmoid", "softplus", made)
        assert not np.allclose(grads["W2"], right["W2"]), kind
    with pytest.raises(ValueError, match="unknown mistake"):  # a misspelt kind is not silently the right gradient
        mistaken_grad(params, passes, dA, "sigmoid", "softplus", (Mistake("missing_deriv", 2),))  # type: ignore[arg-type]
