import numpy as np
import pytest

import xsq

SIZES = [(1, 16, 1), (3, 5, 2), (1, 8, 8, 1)]
SMOOTH = ["sigmoid", "tanh", "softplus", "identity"]


def make_problem(sizes, n, seed, positive=True):
    """Random params (biases too) and data with positive targets, all from one seed."""
    rng = np.random.default_rng(seed)
    params = xsq.init_params(sizes, seed=rng)
    for key in params:
        params[key] = params[key] + rng.normal(0.0, 0.3, size=params[key].shape)
    X = rng.uniform(-2.0, 2.0, size=(n, sizes[0]))
    Y = rng.uniform(0.5, 3.0, size=(n, sizes[-1]))
    return params, X, Y


@pytest.fixture
def problem():
    return make_problem((1, 16, 1), 64, 0)
