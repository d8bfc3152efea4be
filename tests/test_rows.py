"""A row's prediction, error bar and slope do not depend on what else is asked with it (xsq.training.model's
by_blocks): every row goes through matrix products of one shape."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import xsq
from xsq.training.model import by_blocks


def test_blocks_are_all_of_one_shape_the_last_padded():
    seen = []

    def fn(B):
        seen.append(B.shape)
        return B * len(B)  # depends on the block's length, as a BLAS kernel may on its shape

    out = by_blocks(fn, np.arange(10.0)[:, None], rows=4)
    assert seen == [(4, 1)] * 3 and np.array_equal(out[:, 0], 4 * np.arange(10.0))
    assert by_blocks(fn, np.zeros((0, 1)), rows=4).shape == (0, 1)
    g = grad(lambda x: anp.sum(by_blocks(lambda B: B**2, x, rows=4)))(np.arange(6.0)[:, None])
    assert np.array_equal(g[:, 0], 2 * np.arange(6.0))  # autograd differentiates through the padding


def alone_and_together(f, x):
    """f of each row alone, stacked, and f of all rows at once, in a shuffled order put back."""
    order = np.random.default_rng(0).permutation(len(x))
    together = np.empty_like(f(x))
    together[order] = f(x[order])
    return np.concatenate([f(x[i : i + 1]) for i in range(len(x))]), together


def test_the_default_model_predicts_and_slopes_each_row_as_it_would_alone(default_model):
    x = np.linspace(1.0, 100.0, 301)
    for f in (default_model.predict, default_model.derivative, default_model.manual_derivative):
        alone, together = alone_and_together(f, x)
        assert np.array_equal(alone, together)


def test_the_slopes_differentiate_again_as_autograd_arrays(default_model):
    """A second derivative through the blocks: autograd's own arrays, not numpy arrays of its boxes, so any
    function of the slope differentiates (tanh of a box array would raise)."""
    x = np.linspace(10.0, 90.0, 40)
    curvature = grad(lambda x: anp.sum(anp.tanh(default_model.derivative(x) / 200.0)))(x)
    h = 1e-4
    fd = np.tanh(default_model.derivative(x + h) / 200.0) - np.tanh(default_model.derivative(x - h) / 200.0)
    assert curvature.dtype == float and np.allclose(curvature, fd[:, 0, 0] / (2 * h), rtol=1e-5)


def test_error_bars_and_a_staged_model_too():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2.0, 2.0, (300, 2))
    Y = np.column_stack([np.sin(X[:, 0]) * X[:, 1], np.cos(X[:, 1])]) + 0.1 * rng.normal(size=(300, 2))
    bayes = xsq.fit(X, Y, regularization="bayes", hidden=6, epochs=60)
    for f in (bayes.predict, bayes.std):
        alone, together = alone_and_together(f, X)
        assert np.array_equal(alone, together)
    x = np.linspace(-1.0, 1.0, 400)
    staged = xsq.fit(x, np.sin(3 * x), stages=2, epochs=60, restarts=0)
    assert len(staged.stages) == 1
    alone, together = alone_and_together(staged.predict, x)
    assert np.array_equal(alone, together)


def test_xsq_predict_prints_one_number_for_an_input_whatever_else_is_asked(default_model, tmp_path, capsys):
    from xsq.cli.main import main

    default_model.save(tmp_path / "m.npz")
    outputs = []
    for argv in (["3"], ["3", "7.5", "12", "50", "99"]):
        assert main(["predict", "--model", str(tmp_path / "m.npz"), *argv]) == 0
        outputs.append(capsys.readouterr().out.splitlines()[0])
    assert outputs[0] == outputs[1] and outputs[0].startswith("3 ")


@pytest.mark.parametrize("n", [1, 255, 256, 257, 600])
def test_any_number_of_rows(default_model, n):
    x = np.linspace(1.0, 100.0, n)
    assert default_model.predict(x).shape == (n, 1) and default_model.derivative(x).shape == (n, 1, 1)
