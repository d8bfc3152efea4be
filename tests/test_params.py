"""The params dict: initialisation, checks at the public entry points, and the flat vector."""

import numpy as np
import pytest

import xsq
from xsq.core.params import check_params


def test_init_shapes_and_reproducibility():
    p = xsq.init_params((3, 5, 2), seed=4)
    assert {k: v.shape for k, v in p.items()} == {"W1": (3, 5), "b1": (5,), "W2": (5, 2), "b2": (2,)}
    q = xsq.init_params((3, 5, 2), seed=np.random.default_rng(4))
    assert all(np.array_equal(p[k], q[k]) for k in p)
    limit = np.sqrt(6 / (3 + 5))
    assert np.all(np.abs(p["W1"]) <= limit) and np.all(p["b1"] == 0)
    assert xsq.init_params((1, 16.0, 1))["W1"].shape == (1, 16)


@pytest.mark.parametrize("sizes", [(1,), (1, 0, 1), (1, -3, 1), ("a", 2), (1, 16.7, 1), (1, np.inf, 1), 5, "16"])
def test_bad_sizes(sizes):
    with pytest.raises(xsq.InputError, match="sizes must be at least two whole numbers >= 1"):
        xsq.init_params(sizes)


def test_unknown_init():
    with pytest.raises(xsq.InputError, match="unknown init 'lecun'"):
        xsq.init_params((1, 2, 1), init="lecun")


GOOD = {"W1": np.ones((1, 3)), "b1": np.ones(3), "W2": np.ones((3, 1)), "b2": np.ones(1)}


@pytest.mark.parametrize(
    "change,message",
    [
        (dict(b2=None), "missing b2"),
        (dict(W3=np.ones((1, 1))), "missing b3"),
        (dict(scale=np.ones(1)), "unexpected scale"),
        (dict(W2=np.ones((4, 1))), "params W2 has shape"),
        (dict(W1=np.ones((1, 0)), b1=np.ones(0), W2=np.ones((0, 1))), "every n >= 1"),
        (dict(b1=np.array([1.0, np.nan, 1.0])), "params b1 holds NaN or inf"),
        (dict(W2=np.full((3, 1), np.inf)), "params W2 holds NaN or inf"),
        (dict(W1=np.array([[1 + 1j, 1, 1]])), "complex numbers"),
        (dict(W1=[["a", "b", "c"]]), "not real numbers"),
    ],
)
def test_bad_params_are_named(change, message):
    params = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    for call in (
        lambda: check_params(params),
        lambda: xsq.predict(params, np.ones((2, 1))),
        lambda: xsq.objective(params, np.ones((2, 1)), np.ones((2, 1))),
    ):
        with pytest.raises(xsq.InputError, match=message):
            call()


def test_lists_and_integers_are_converted():
    params = {"W1": [[1, 2, 3]], "b1": [0, 0, 0], "W2": [[1], [1], [1]], "b2": [0]}
    floats = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    assert np.array_equal(xsq.predict(params, [[1], [2]]), xsq.predict(floats, np.array([[1.0], [2.0]])))


def test_flatten_order_and_round_trip():
    params = xsq.init_params((1, 16, 1), seed=0)
    assert xsq.param_keys(params) == ["W1", "b1", "W2", "b2"]
    v = xsq.flatten(params)
    assert np.array_equal(v[:16], params["W1"].ravel()) and np.array_equal(v[16:32], params["b1"])
    back = xsq.unflatten(v, params)
    assert all(np.array_equal(back[k], params[k]) for k in params)
    deep = xsq.init_params((1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1), seed=0)  # 11 layers: W10 and W11 after W9
    assert xsq.param_keys(deep)[16:20] == ["W9", "b9", "W10", "b10"]


def test_flatten_and_unflatten_refuse_wrong_keys_and_lengths():
    params = xsq.init_params((1, 4, 1), seed=0)
    with pytest.raises(xsq.InputError, match="missing b2"):
        xsq.flatten({k: v for k, v in params.items() if k != "b2"})
    v = xsq.flatten(params)
    for bad in (v[:-1], np.append(v, 0.0), v[:, None]):
        with pytest.raises(xsq.InputError, match="vector must be 1-D with 13 entries"):
            xsq.unflatten(bad, params)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, None])
def test_the_seed_is_checked(seed):
    with pytest.raises(xsq.InputError, match="seed must be a whole number >= 0 or a numpy.random.Generator"):
        xsq.init_params((1, 2, 1), seed=seed)


def test_a_huge_seed_is_kept_exactly():
    big = 2**70 + 1  # float(big) == 2**70: a seed read through a float would be another seed
    a, b = xsq.init_params((1, 3, 1), seed=big), xsq.init_params((1, 3, 1), seed=2**70)
    assert np.array_equal(a["W1"], xsq.init_params((1, 3, 1), seed=np.random.default_rng(big))["W1"])
    assert not np.array_equal(a["W1"], b["W1"])


def test_each_activation_gets_the_initialisation_that_suits_it():
    sizes = (400, 300, 1)
    glorot, he = (xsq.init_params(sizes, seed=0, init=i) for i in ("glorot", "he"))
    assert np.isclose(np.max(np.abs(glorot["W1"])), np.sqrt(6 / 700), rtol=1e-3)  # uniform on +-sqrt(6 / fans)
    assert np.isclose(np.std(he["W1"]), np.sqrt(2 / 400), rtol=0.01)  # normal, variance 2 / fan_in
    chosen = {"relu": he, "sigmoid": glorot, "tanh": glorot, "softplus": glorot, "identity": glorot}
    assert set(chosen) == set(xsq.ACTIVATIONS)
    for activation, kind in chosen.items():
        auto = xsq.init_params(sizes, seed=0, init="auto", activation=activation)
        assert all(np.array_equal(auto[k], kind[k]) for k in auto), activation
