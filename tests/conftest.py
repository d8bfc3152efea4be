"""Shared problems for the tests: random networks and data from one seed, and a trained default model."""

import os
import signal

# scikit-learn's estimator checks include one that array-API dispatch leaves NumPy results alone; it runs only
# with this set before scipy loads (otherwise it is skipped)
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import xsq  # noqa: E402
import xsq.cli.commands  # noqa: E402

# The signal tests need signals to arrive: a suite started in the background (``nohup``, ``&``) inherits
# them ignored, which xsq rightly respects.
for _signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    if signal.getsignal(_signum) == signal.SIG_IGN:
        signal.signal(_signum, signal.default_int_handler if _signum == signal.SIGINT else signal.SIG_DFL)

SIZES = [(1, 16, 1), (3, 5, 2), (1, 8, 8, 1)]
SMOOTH = ["sigmoid", "tanh", "softplus", "identity"]


def make_problem(sizes, n, seed):
    """Random params (biases too) and data with positive targets, all from one seed."""
    rng = np.random.default_rng(seed)
    params = xsq.init_params(sizes, seed=rng)
    for key in params:
        params[key] = params[key] + rng.normal(0.0, 0.3, size=params[key].shape)
    X = rng.uniform(-2.0, 2.0, size=(n, sizes[0]))
    Y = rng.uniform(0.5, 3.0, size=(n, sizes[-1]))
    return params, X, Y


def max_rel(a, b):
    """max |a - b| over the larger of max |a| and max |b| (0 when both are 0)."""
    scale = max(np.max(np.abs(a)), np.max(np.abs(b)))
    return np.max(np.abs(a - b)) / scale if scale > 0 else 0.0


@pytest.fixture(autouse=True)
def _plots_only_where_asked(request, monkeypatch):
    """Drawing a run's PNGs takes about a second: in-process runs draw them only in tests marked ``plots``."""
    if request.node.get_closest_marker("plots") is None:
        monkeypatch.setattr(xsq.cli.commands, "PLOTTING", False)


@pytest.fixture
def problem():
    return make_problem((1, 16, 1), 64, 0)


@pytest.fixture(scope="session")
def x2_data():
    """xsq train's default inputs (seed 0) and the generator its fit continues."""
    x = np.random.default_rng(0).uniform(1, 100, 1000)
    return x, x**2


def pairwise(*factors):
    """A small set of combinations in which every pair of values of any two factors appears at least once
    (greedy: repeatedly take the combination that covers the most pairs not yet covered)."""
    import itertools

    def pairs(combo):
        return {(i, a, j, b) for (i, a), (j, b) in itertools.combinations(enumerate(combo), 2)}

    todo = set().union(*(pairs(c) for c in itertools.product(*factors)))
    chosen = []
    candidates = list(itertools.product(*factors))
    while todo:
        best = max(candidates, key=lambda c: len(pairs(c) & todo))
        chosen.append(best)
        todo -= pairs(best)
    return chosen


@pytest.fixture(scope="session")
def default_model(x2_data, tmp_path_factory):
    """The default fit of x^2 on [1, 100] (the generator continuing as xsq train's does), trained once for
    the whole run and read back from its model file, so every test sees the same loaded model: under
    pytest-xdist the first worker to ask trains and saves it, under a lock, and the others load it."""
    import fcntl

    if "PYTEST_XDIST_WORKER" in os.environ:
        folder = tmp_path_factory.getbasetemp().parent  # the run's folder, shared by its workers
    else:
        folder = tmp_path_factory.mktemp("default_model")
    path = folder / "default_model.npz"
    with open(str(path) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.is_file():
            rng = np.random.default_rng(0)
            rng.uniform(1, 100, 1000)
            xsq.fit(*x2_data, seed=rng).save(path)
    return xsq.load_model(path)
