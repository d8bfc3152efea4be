"""The --target expression compiler: values, derivatives, precedence, pickling, and refusing everything else."""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import pickle

import numpy as np
import pytest
from autograd import elementwise_grad
from hypothesis import given, settings
from hypothesis import strategies as st

from xsq.data.expr import MAX_DEPTH, MAX_LENGTH, Expression, compile_expression
from xsq.errors import InputError

X = np.linspace(0.1, 1.2, 12)  # inside every listed function's domain, away from tan's poles

VALUES = {
    "x": lambda x: x,
    "x**2": lambda x: x * x,
    "sin(x)": np.sin,
    "cos(x)": np.cos,
    "tan(x)": np.tan,
    "exp(x)": np.exp,
    "log(x)": np.log,
    "log1p(x)": np.log1p,
    "sqrt(x)": np.sqrt,
    "abs(x - 0.5)": lambda x: np.abs(x - 0.5),
    "tanh(x)": np.tanh,
    "arctan(x)": np.arctan,
    "sinh(x)": np.sinh,
    "cosh(x)": np.cosh,
    "pi * x + e": lambda x: np.pi * x + np.e,
    "1e-3 * x - 2.5E+2": lambda x: 0.001 * x - 250.0,
    "x / (1 + x**2)": lambda x: x / (1 + x * x),
    "+x - -x": lambda x: 2 * x,
    "exp(-x**2 / 2) / sqrt(2 * pi)": lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi),
    "sin(cos(x)) * log(1 + x)": lambda x: np.sin(np.cos(x)) * np.log(1 + x),
    "x**x": lambda x: np.power(x, x),
    "  sin(x)\n": np.sin,
}


@pytest.mark.parametrize("text", VALUES)
def test_values_match_numpy_by_hand(text):
    np.testing.assert_allclose(compile_expression(text)(X), VALUES[text](X), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 1, 3), (0,)])
@pytest.mark.parametrize("text", ["x**2 + 1", "2", "-pi", "sin(2) * e"])
def test_result_has_the_shape_of_x_and_is_float64(text, shape):
    x = np.full(shape, 0.5)
    y = compile_expression(text)(x)
    assert np.shape(y) == shape and np.asarray(y).dtype == np.float64
    assert np.array_equal(y, np.full(shape, compile_expression(text)(np.array([0.5]))[0]))


def test_constant_is_broadcast_and_integers_become_float64():
    np.testing.assert_array_equal(compile_expression("2")(np.zeros((2, 3))), np.full((2, 3), 2.0))
    y = compile_expression("x / 2")(np.arange(3))
    assert y.dtype == np.float64 and list(y) == [0.0, 0.5, 1.0]


def test_text_is_stripped_and_uses_x():
    assert compile_expression("  x + 1\n").text == "x + 1"
    assert compile_expression("x - x").uses_x and compile_expression("sin(x)").uses_x
    assert not compile_expression("3").uses_x and not compile_expression("exp(pi) * e").uses_x


@pytest.mark.parametrize(
    "text, value",
    [
        ("-x**2", -4.0),  # -(x**2), not (-x)**2
        ("-2**2", -4.0),
        ("(-x)**2", 4.0),
        ("2**-1", 0.5),
        ("x**2**0.5", 2.0 ** (2.0**0.5)),  # right-associative: x**(2**0.5)
        ("2**3**2", 512.0),
        ("2 + 3 * 4", 14.0),
        ("(2 + 3) * 4", 20.0),
        ("8 / 2 / 2", 2.0),
        ("2 - 3 - 4", -5.0),
        ("x * -1", -2.0),
        ("1 / 4 * x", 0.5),
        ("-+-x", 2.0),
        ("10 / 4", 2.5),  # true division, also between integer literals
    ],
)
def test_precedence_and_associativity(text, value):
    assert compile_expression(text)(np.array([2.0]))[0] == pytest.approx(value, rel=1e-15)


DERIVATIVES = {
    "sin(x)": np.cos,
    "x**2": lambda x: 2 * x,
    "exp(x) / x": lambda x: np.exp(x) * (x - 1) / x**2,
    "log(x)": lambda x: 1 / x,
    "sqrt(x)": lambda x: 0.5 / np.sqrt(x),
    "tanh(x)": lambda x: 1 - np.tanh(x) ** 2,
    "arctan(x)": lambda x: 1 / (1 + x * x),
    "x**x": lambda x: x**x * (np.log(x) + 1),
    "2**x": lambda x: np.log(2) * 2**x,
    "abs(x - 0.55)": lambda x: np.sign(x - 0.55),
    "cosh(x) - sinh(x)": lambda x: np.sinh(x) - np.cosh(x),
    "x": np.ones_like,
}


@pytest.mark.parametrize("text", DERIVATIVES)
def test_autograd_derivative_matches_hand_written(text):
    derivative = elementwise_grad(compile_expression(text))(X)
    np.testing.assert_allclose(derivative, DERIVATIVES[text](X), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(
    "text", [*DERIVATIVES, "tan(x) * log1p(x)", "exp(-x**2 / 2) / sqrt(2 * pi)", "1 / (1 + exp(-4 * x))", "x**-1.5"]
)
def test_autograd_derivative_matches_central_differences(text):
    f, h = compile_expression(text), 1e-6
    central = (f(X + h) - f(X - h)) / (2 * h)
    np.testing.assert_allclose(elementwise_grad(f)(X), central, rtol=1e-6, atol=1e-8)


def test_derivative_of_a_constant_is_zero():
    with pytest.warns(UserWarning, match="independent of input"):
        np.testing.assert_array_equal(elementwise_grad(compile_expression("2 * pi"))(X), np.zeros_like(X))


def test_floating_point_problems_are_not_hidden():
    x = np.array([-1.0, 0.0, 1.0])
    with pytest.warns(RuntimeWarning):
        compile_expression("log(x)")(x)
    with np.errstate(all="ignore"):
        y = compile_expression("log(x)")(x)
        assert np.isnan(y[0]) and y[1] == -np.inf and y[2] == 0.0
        assert compile_expression("1 / x")(x)[1] == np.inf
        assert np.all(compile_expression("10**10**10")(x) == np.inf)  # overflows to inf, does not hang
        assert np.isnan(compile_expression("sqrt(x)")(x)[0])


REFUSED = [
    # names and calls outside the whitelist
    ("os", "'os'"),
    ("y", "'y'"),
    ("X", "'X'"),
    ("sin", "'sin' is a function"),
    ("x(2)", "'x' is not a function"),
    ("pi(2)", "'pi' is not a function"),
    ("arcsin(x)", "'arcsin'"),
    ("numpy.sin(x)", "attribute 'numpy.sin'"),
    ("sin(x, x)", "sin() takes exactly one argument, not 2"),
    ("exp()", "exp() takes exactly one argument, not 0"),
    ("sin(x=1)", "keyword argument 'x=1'"),
    ("sin(**{})", "keyword argument '**{}'"),
    ("sin(*x)", "'*x'"),
    ("sin(x)(2)", "calling 'sin(x)'"),
    ("2(x)", "calling '2'"),
    ("(x + 1)(2)", "calling 'x + 1'"),
    # other syntax
    ("x.real", "attribute 'x.real'"),
    ("x[0]", "subscript 'x[0]'"),
    ("lambda: 1", "lambda 'lambda: 1'"),
    ("[x for x in ()]", "comprehension '[x for x in ()]'"),
    ("{x for x in ()}", "comprehension"),
    ("{x: 1 for x in ()}", "comprehension"),
    ("sum(x for x in ())", "'sum'"),
    ("x < 1", "comparison 'x < 1'"),
    ("0 < x < 1", "comparison"),
    ("x and 1", "boolean operator 'x and 1'"),
    ("x or 1", "boolean operator"),
    ("1 if x else 2", "conditional expression '1 if x else 2'"),
    ("(x := 1)", "assignment 'x := 1'"),
    ('f"{x}"', "f-string"),
    ("[x]", "'[x]'"),
    ("(x, 1)", "'(x, 1)'"),
    ("{x}", "'{x}'"),
    ("{x: 1}", "'{x: 1}'"),
    # operators
    ("x // 2", "operator '//'"),
    ("x % 2", "operator '%'"),
    ("x @ x", "operator '@'"),
    ("x ^ 2", "operator '^'"),
    ("x & 1", "operator '&'"),
    ("x | 1", "operator '|'"),
    ("x << 1", "operator '<<'"),
    ("x >> 1", "operator '>>'"),
    ("~x", "operator '~'"),
    ("not x", "operator 'not'"),
    ("2 * (x // 2) + 1", "'x // 2'"),
    # literals
    ("1j", "complex number '1j'"),
    ("x + 2.5j", "complex number '2.5j'"),
    ("'x'", "'x'"),
    ("b'x'", "b'x'"),
    ("None", "'None'"),
    ("True", "'True'"),
    ("False + x", "'False'"),
    ("...", "'...'"),
    ("9" * 400, "is too large"),
]


@pytest.mark.parametrize("text, piece", REFUSED)
def test_disallowed_constructs_are_refused_naming_the_piece(text, piece):
    with pytest.raises(InputError) as caught:
        compile_expression(text)
    message = str(caught.value)
    assert piece in message and message.startswith("--target: ") and "\n" not in message
    assert message.endswith("arctan, sinh, cosh")  # says what is allowed


PYTHON_ESCAPES = [
    ("__import__('os').system('touch /tmp/xsq-pwned')", "__import__"),
    ("().__class__.__bases__[0].__subclasses__()", "__subclasses__"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in ()]", "comprehension"),
    ("x.real", "x.real"),
    ("open('f')", "'open'"),
    ("exec('1')", "'exec'"),
    ("eval('1')", "'eval'"),
    ("globals()", "'globals'"),
    ("sin.__globals__", "sin.__globals__"),
    ("sin.__globals__['__builtins__']", "sin.__globals__"),
    ("f'{__import__(\"os\")}'", "f-string"),
    ("(x := __import__('os'))", "assignment"),
    ("x if __import__('os') else x", "conditional"),
    ("compile('1', '', 'eval')", "'compile'"),
    ("getattr(x, 'real')", "'getattr'"),
    ("__builtins__", "'__builtins__'"),
    ("sin(x).__class__", "attribute"),
    ("sin(__import__('os'))", "'__import__'"),
]


@pytest.mark.parametrize("text, piece", PYTHON_ESCAPES)
def test_attempts_to_reach_python_are_refused(text, piece):
    with pytest.raises(InputError, match="^--target: .*not") as caught:
        compile_expression(text)
    assert piece in str(caught.value)


def test_nothing_is_run_or_imported(monkeypatch, tmp_path):
    """With the ways to run or open things replaced by traps, compiling and evaluating trips none of them."""
    sentinel = tmp_path / "pwned"
    tripped = []

    def trap(name):
        def trapped(*args, **kwargs):
            tripped.append(name)
            raise AssertionError(f"{name} was called")

        return trapped

    real_compile = builtins.compile

    def parse_only_compile(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse asks compile for a tree: parsing, not code
            return trap("compile")()
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    payloads = [
        f"__import__('os').system('touch {sentinel}')",
        f"open('{sentinel}', 'w')",
        f"exec(\"open('{sentinel}', 'w')\")",
        f"eval(\"open('{sentinel}', 'w')\")",
        f"compile(\"open('{sentinel}', 'w')\", '', 'exec')",
        "().__class__.__bases__[0].__subclasses__()",
        "(lambda: 1)()",
    ]
    with monkeypatch.context() as patch:
        patch.setattr(builtins, "compile", parse_only_compile)
        for name in ("eval", "exec", "open", "__import__"):  # __import__ last: setattr itself may import
            patch.setattr(builtins, name, trap(name))
        values = [compile_expression(text)(X) for text in ("sin(x) + x**2 / pi", "exp(-x) * log1p(x)", "2")]
        grad = elementwise_grad(compile_expression("sin(x) * x"))(X)
        refused = 0
        for text in payloads:
            try:
                compile_expression(text)
            except InputError:
                refused += 1
    assert tripped == [] and refused == len(payloads) and not sentinel.exists()
    np.testing.assert_allclose(values[0], np.sin(X) + X**2 / np.pi)
    np.testing.assert_allclose(grad, np.cos(X) * X + np.sin(X))


@pytest.mark.parametrize(
    "text",
    [
        "x" * 10**6,
        "x+" * (MAX_LENGTH // 2) + "x",
        "(" * 10**5 + "x" + ")" * 10**5,
        "-" * (MAX_LENGTH - 1) + "x",
        "sin(" * 150 + "x" + ")" * 150,
        "x" + "**x" * 200,
        "1" + "+1" * (MAX_DEPTH + 1),  # a long sum is a deep tree
    ],
)
def test_long_or_deeply_nested_input_is_refused_cleanly(text):
    with pytest.raises(InputError, match="^--target: [^\n]*(long|nested|deep)"):
        compile_expression(text)


def test_nesting_within_the_limit_is_fine():
    assert compile_expression("-" * 50 + "x")(np.array([3.0]))[0] == 3.0
    assert compile_expression("1" + "+1" * MAX_DEPTH)(np.array([0.0]))[0] == MAX_DEPTH + 1
    assert compile_expression("(" * 150 + "x" + ")" * 150)(np.array([3.0]))[0] == 3.0  # parentheses add no depth


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_input_is_refused(text):
    with pytest.raises(InputError, match="^--target: the expression is empty"):
        compile_expression(text)


@pytest.mark.parametrize(
    "text, where",
    [("sin(x", "column"), ("x)", "column 2"), ("2x", "column"), ("(x\n+ )", "line 2"), ("x +", ""), ("x = 1", "")],
)
def test_syntax_errors_are_one_line_with_the_column(text, where):
    with pytest.raises(InputError, match="^--target: ") as caught:
        compile_expression(text)
    assert where in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("text", ["1if x else 2", "0in x", "'\\d'"])
def test_python_warnings_while_parsing_become_refusals(text, recwarn):
    with pytest.raises(InputError, match="^--target: "):
        compile_expression(text)
    assert not recwarn.list


@pytest.mark.parametrize("value", [None, 3, b"x", ["x"]])
def test_non_text_is_refused(value):
    with pytest.raises(InputError, match="text"):
        compile_expression(value)


def test_pieces_are_named_on_one_line_and_shortened():
    with pytest.raises(InputError) as caught:
        compile_expression("(x\n + y)")
    assert "'y'" in str(caught.value)
    with pytest.raises(InputError) as caught:
        compile_expression("[" + "x, " * 100 + "x]")
    assert "..." in str(caught.value) and len(str(caught.value)) < 200


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(protocol):
    expression = compile_expression(" exp(-x) * sin(3 * x) ")
    clone = pickle.loads(pickle.dumps(expression, protocol=protocol))
    assert clone == expression and hash(clone) == hash(expression) and clone.text == "exp(-x) * sin(3 * x)"
    assert clone.uses_x and not pickle.loads(pickle.dumps(compile_expression("2"))).uses_x
    np.testing.assert_array_equal(clone(X), expression(X))
    np.testing.assert_array_equal(copy.deepcopy(expression)(X), expression(X))


def test_expression_is_frozen_and_compared_by_text():
    expression = compile_expression("x + 1")
    assert expression == Expression("  x + 1 ") and expression != compile_expression("1 + x")
    assert repr(expression) == "Expression(text='x + 1', uses_x=True)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        expression.text = "__import__('os')"
    with pytest.raises(InputError):
        Expression("x.real")  # the constructor checks too: there is no unchecked Expression


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="x()+-*/.e0129 sinpcolgqrtab,_[]:=lambd'\"{}j<&%@~", max_size=40))
def test_any_text_compiles_or_is_refused_with_input_error(text):
    try:
        expression = compile_expression(text)
    except InputError as error:
        assert str(error).startswith("--target: ") and "\n" not in str(error)
        return
    with np.errstate(all="ignore"):
        y = expression(X)
    assert np.shape(y) == X.shape
