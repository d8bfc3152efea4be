"""A first network that ends short of wider.AIM gets a wider second one, and the one with the lower validation
loss is kept (xsq.training.wider); Ctrl-C or a callback's stop in the second keeps the best so far."""

import dataclasses
import io

import numpy as np
import pytest

import xsq
from xsq.cli.progress import Progress
from xsq.training import wider
from xsq.training.epochs import Data
from xsq.training.snapshots import Snapshots


def sine(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 3.0, n)
    return x, np.sin(3 * x) * np.cos(x)


SHORT = dict(epochs=60, restarts=1)  # far short of AIM: the second network is trained


def test_a_short_first_network_gets_a_wider_second_and_the_better_is_kept():
    x, y = sine()
    model = xsq.fit(x, y, seed=0, **SHORT)
    first = xsq.fit(x, y, seed=0, hidden=16, **SHORT)  # the same first network: a given width is never widened
    reason = model.record.settings["hidden_reason"]
    assert "hidden_reason" not in first.record.settings and first.sizes == (1, 16, 1)
    assert reason.startswith("16 units reached RMSE/range") and "24 units" in reason
    assert model.sizes[1] in (16, 24) and f"the {model.sizes[1]} were kept" in reason
    assert model.record.settings["hidden"] == (model.sizes[1],)
    assert model.record.best_loss <= first.record.best_loss
    assert model.record.seconds > first.record.seconds * 1.2  # both networks' time
    again = xsq.fit(x, y, seed=0, **SHORT)
    for k in model.params:
        np.testing.assert_array_equal(again.params[k], model.params[k])


def scaled(seed=0):
    x, y = sine(seed=seed)
    X, Y = (x[:, None] - 1.5) / 0.9, (y[:, None] - y.mean()) / y.std()
    return Data(X[:500], Y[:500], X[500:], Y[500:])


def fitted(data, **settings):
    """A fit to all of ``data``'s rows, for a record and parameters of the right kind."""
    return xsq.fit(np.r_[data.X, data.X_val][:, 0], np.r_[data.Y, data.Y_val][:, 0], seed=0, **settings)


@pytest.mark.parametrize("first_loss, kept", [(0.0, 16), (np.inf, 24)])
def test_the_lower_validation_loss_is_kept(first_loss, kept):
    """A first record that nothing beats keeps the first network; one that anything beats, the second."""
    data = scaled()
    model = fitted(data, hidden=16, **SHORT)
    s = xsq.training.settings.resolve(epochs=60, restarts=1, output="identity")
    record = dataclasses.replace(model.record, best_loss=first_loss)
    fields = dict(val_rows=np.arange(100), domain=((0.0, 3.0),), settings=s.as_dict())
    params, rec, s2 = wider.fit_wider((model.params, record), data, np.random.default_rng(1), s, None, **fields)
    assert params["W1"].shape == (1, kept) and s2.hidden == (kept,) and rec.settings["hidden"] == (kept,)
    assert rec.settings["hidden_reason"].endswith(f"the {kept} were kept")
    assert (rec.best_loss == first_loss) == (kept == 16)


def test_no_second_network_when_the_first_reaches_the_aim_or_the_width_is_given():
    x = np.linspace(-1.0, 1.0, 600)
    reached = xsq.fit(x, np.tanh(20 * x), seed=0)  # to the float64 floor in about 130 steps
    assert wider.shortfall(reached.record, scaled()) <= wider.AIM or reached.record.best_loss < 1e-25
    assert "hidden_reason" not in reached.record.settings and reached.sizes == (1, 16, 1)
    x, y = sine()
    given = xsq.fit(x, y, seed=0, hidden=16, **SHORT)
    assert "hidden_reason" not in given.record.settings


def test_the_aim_is_judged_on_validation_rmse_over_the_target_range():
    data = scaled()
    spread = np.ptp(data.Y)
    record = fitted(data, hidden=4, epochs=5).record
    at = dataclasses.replace(record, best_loss=(wider.AIM * spread) ** 2)
    np.testing.assert_allclose(wider.shortfall(at, data), wider.AIM, rtol=1e-12)
    assert not wider.wants_wider(at, data)
    above = dataclasses.replace(record, best_loss=(1.01 * wider.AIM * spread) ** 2)
    assert wider.wants_wider(above, data)
    assert not wider.wants_wider(dataclasses.replace(above, interrupted=True), data)


def interrupt_second(at_epoch):
    def callback(info):
        if info.get("network") == 2 and info["epoch"] == at_epoch:
            raise KeyboardInterrupt

    return callback


def test_ctrl_c_at_the_start_of_the_second_network_keeps_the_first():
    x, y = sine()
    first = xsq.fit(x, y, seed=0, hidden=16, **SHORT)
    model = xsq.fit(x, y, seed=0, callback=interrupt_second(0), **SHORT)
    assert model.record.interrupted and model.sizes == (1, 16, 1)
    assert "Ctrl-C stopped a 24-unit network" in model.record.settings["hidden_reason"]
    np.testing.assert_array_equal(model.params["W1"], first.params["W1"])


def test_ctrl_c_or_a_stop_later_in_the_second_keeps_the_better_so_far():
    x, y = sine()
    first = xsq.fit(x, y, seed=0, hidden=16, **SHORT)
    interrupted = xsq.fit(x, y, seed=0, callback=interrupt_second(20), **SHORT)
    stopped = xsq.fit(x, y, seed=0, callback=lambda info: info.get("network") == 2 and info["epoch"] == 20, **SHORT)
    assert interrupted.record.interrupted and not interrupted.record.stopped
    assert stopped.record.stopped and not stopped.record.interrupted
    for model in (interrupted, stopped):
        assert model.record.best_loss <= first.record.best_loss


def snapshot_info(epoch, width, network=None):
    params = {"W1": np.zeros((1, width))}
    info = {"epoch": epoch, "phase": "running", "train_loss": 1.0, "val_loss": 1.0, "params": params}
    return info if network is None else {**info, "network": network}


def test_snapshots_keep_each_network_apart_and_give_the_kept_ones():
    snaps = Snapshots()
    for e in range(5):
        snaps(snapshot_info(e, 16))
    for e in range(3):
        snaps(snapshot_info(e, 24, network=2))
    assert [s.epoch for s in snaps.all] == list(range(5))
    assert [s.epoch for s in snaps.of({"W1": np.zeros((1, 24))})] == [0, 1, 2]
    assert [s.epoch for s in snaps.of({"W1": np.zeros((1, 16))})] == list(range(5))


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [False, True])
def test_progress_starts_a_new_line_or_bar_for_the_second_network(terminal):
    stream = Terminal() if terminal else io.StringIO()
    info = {"epoch": 0, "total": 60, "phase": "screen", "train_loss": 1.0, "val_loss": 1.0, "elapsed": 0.0}
    with Progress(stream=stream, every=1e9) as progress:
        progress(info)
        progress({**info, "epoch": 30, "elapsed": 0.1})
        progress({**info, "epoch": 10, "elapsed": 0.2, "network": 2})
    if terminal:
        shown = stream.getvalue()
        assert "\rtrain:" in shown and "\rtrain network 2:" in shown  # a bar each
    else:
        lines = stream.getvalue().splitlines()
        assert [line.split(" epoch")[0] for line in lines] == ["train", "train network 2"]


def test_a_second_network_that_would_not_fit_in_memory_is_not_trained(monkeypatch):
    def refuse(n, sizes, optimizer):
        raise xsq.InputError(f"this run (sizes {'-'.join(map(str, sizes))}) would not fit in memory")

    monkeypatch.setattr(wider, "check_memory", refuse)
    x, y = sine()
    model = xsq.fit(x, y, seed=0, **SHORT)
    assert model.sizes == (1, 16, 1) and not model.record.interrupted
    assert model.record.settings["hidden_reason"].endswith(
        "a 24-unit network: this run (sizes 1-24-1) would not fit in memory"
    )


def test_the_cli_says_why_the_network_is_wider(capsys, tmp_path):
    from xsq.cli.main import main

    argv = ["train", "--target", "sin(3*x)*cos(x)", "--low", "0", "--high", "3", "--n", "600", "--epochs", "60"]
    assert main([*argv, "--restarts", "1", "--quiet", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("hidden: "))
    assert line.startswith(("hidden: 16 (16 units reached RMSE/range", "hidden: 24 (16 units reached RMSE/range"))
