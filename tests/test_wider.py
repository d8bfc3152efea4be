"""A first network that ends just short of wider.AIM gets a wider second one, and the one with the lower
validation loss is kept (xsq.training.wider); Ctrl-C, a callback's stop or a failure in the second keeps the
best so far, and the record says what each network reached."""

import dataclasses
import io
import math

import numpy as np
import pytest

import xsq
from xsq.cli.progress import Progress
from xsq.core import net
from xsq.errors import InputError, TrainingStalled
from xsq.training import settings, wider
from xsq.training.epochs import Data
from xsq.training.loop import Trained
from xsq.training.record import BAYES_WIDTH_FIELDS, TrainingRecord, WidthRecord
from xsq.training.residuals import neighbour_z
from xsq.training.snapshots import Snapshots


def sine(n=1000, seed=0):
    """Enough rows (850 to train on) for 24 units to train by variable projection too (730 needed)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 3.0, n)
    return x, np.sin(3 * x) * np.cos(x)


SHORT = dict(epochs=80, restarts=1)  # ends at a validation RMSE/range of about 1e-7: between AIM and CEILING


@pytest.fixture(scope="module")
def widened():
    x, y = sine()
    return xsq.fit(x, y, seed=0, **SHORT), xsq.fit(x, y, seed=0, hidden=16, **SHORT)


def test_a_first_network_just_short_gets_a_wider_second_and_the_better_is_kept(widened):
    model, first = widened
    assert first.record.widths == () and first.sizes == (1, 16, 1)  # a width given is never widened
    w16, w24 = model.record.widths
    assert (w16.hidden, w24.hidden) == (16, 24) and [w16.kept, w24.kept].count(True) == 1
    assert model.sizes[1] == (24 if w24.kept else 16) == model.record.settings["hidden"][0]
    assert w16.val_rmse_over_range == pytest.approx(wider.val_rmse_over_range(first.record, data_of(first)), rel=1e-12)
    assert wider.AIM < w16.val_rmse_over_range <= wider.CEILING
    assert w24.val_rmse_over_range == min(w.val_rmse_over_range for w in (w16, w24))  # here the wider one won
    assert model.record.seconds == pytest.approx(w16.seconds + w24.seconds)
    assert "warmup" in set(model.record.history.phase) & set(first.record.history.phase)  # by variable projection
    assert "screen" not in model.record.history.phase  # grown from the first: nothing to screen


def test_the_second_network_grows_from_the_first(widened):
    """It starts from the first network's 16 units, and 8 more."""
    _, first = widened
    x, y = sine()
    starts = []
    xsq.fit(
        x,
        y,
        seed=0,
        callback=lambda info: (
            starts.append(info["params"]) if info.get("network") == 2 and info["epoch"] == 0 else None
        ),
        **SHORT,
    )
    (start,) = starts
    assert start["W1"].shape == (1, 24)
    np.testing.assert_array_equal(start["W1"][:, :16], first.params["W1"])
    np.testing.assert_array_equal(start["b1"][:16], first.params["b1"])
    assert not np.any(np.isin(start["W1"][:, 16:], first.params["W1"]))  # and 8 new units


def data_of(model, n=1000, seed=0):
    """The scaled training and validation rows a fit to sine(n, seed) used."""
    x, y = sine(n, seed)
    X, Y = model.scaler.inputs(x[:, None]), model.scaler.targets(y[:, None])
    val = model.record.val_rows
    train = np.setdiff1d(np.arange(n), val)
    return Data(X[train], Y[train], X[val], Y[val])


def test_the_validation_rmse_over_range_is_that_of_the_kept_parameters_on_the_validation_rows(widened):
    """Against an independent reference: the network's own predictions on the held-out rows, in raw units."""
    model, first = widened
    x, y = sine()
    val = first.record.val_rows
    rmse = np.sqrt(np.mean((first.predict(x[val])[:, 0] - y[val]) ** 2))
    train = np.setdiff1d(np.arange(len(x)), val)
    reached = wider.val_rmse_over_range(first.record, data_of(first))
    assert reached == pytest.approx(rmse / np.ptp(y[train]), rel=1e-6)
    assert model.record.widths[0].val_rmse_over_range == pytest.approx(reached, rel=1e-12)


def test_the_same_seed_gives_the_same_widened_model(widened):
    x, y = sine()
    again = xsq.fit(x, y, seed=0, **SHORT)
    for k, v in widened[0].params.items():
        np.testing.assert_array_equal(again.params[k], v)


def scaled():
    x, y = sine()
    X, Y = (x[:, None] - 1.5) / 0.9, (y[:, None] - y.mean()) / y.std()
    return Data(X[:850], Y[:850], X[850:], Y[850:])


def second_run(best_loss):
    """A stand-in for the loop's run of the second network: a record like the first's with ``best_loss``."""

    def run(steps, data, s, callback, **fields):
        first = xsq.fit(np.r_[data.X, data.X_val][:, 0], np.r_[data.Y, data.Y_val][:, 0], hidden=s.hidden, epochs=3)
        return first.params, dataclasses.replace(first.record, best_loss=best_loss, seconds=2.0)

    return run


def first_fit(data, best_loss=1e-15):
    model = xsq.fit(np.r_[data.X, data.X_val][:, 0], np.r_[data.Y, data.Y_val][:, 0], hidden=16, epochs=3)
    return Trained(model.params, dataclasses.replace(model.record, best_loss=best_loss, seconds=1.0))


def wider_of(monkeypatch, data, first_loss, second):
    monkeypatch.setattr(wider, "run", second)
    s = settings.resolve(epochs=60, restarts=1, output="identity")
    fields = dict(val_rows=np.arange(150), domain=((0.0, 3.0),), settings={})
    kept, s = wider.fit_wider(first_fit(data, first_loss), data, np.random.default_rng(1), s, None, None, **fields)
    return kept.params, kept.record, s


@pytest.mark.parametrize("second_loss, kept", [(0.9e-15, 24), (1e-15, 16), (1.1e-15, 16)])
def test_the_lower_validation_loss_is_kept_and_the_first_on_a_tie(monkeypatch, second_loss, kept):
    params, record, s = wider_of(monkeypatch, scaled(), 1e-15, second_run(second_loss))
    assert params["W1"].shape == (1, kept) and s.hidden == (kept,)
    assert [w.hidden for w in record.widths if w.kept] == [kept] and record.best_loss == min(1e-15, second_loss)
    assert record.seconds == 3.0 and not (record.interrupted or record.stopped)


def test_a_second_network_that_fails_or_would_not_fit_in_memory_keeps_the_first(monkeypatch):
    data = scaled()

    def stalls(steps, data, s, callback, **fields):
        raise TrainingStalled("training did not learn: planted", None, None)

    params, record, s = wider_of(monkeypatch, data, 1e-15, stalls)
    assert params["W1"].shape == (1, 16) and record.best_loss == 1e-15 and record.seconds > 1.0  # and its own
    assert record.widths[1].note == "failed: training did not learn: planted" and math.isnan(
        record.widths[1].val_rmse_over_range
    )

    def refuse(n, sizes, optimizer, batch_size, regularization):
        raise InputError(f"this run (sizes {'-'.join(map(str, sizes))}) would not fit in memory")

    monkeypatch.setattr(wider, "check_memory", refuse)
    params, record, s = wider_of(monkeypatch, data, 1e-15, second_run(0.0))
    assert params["W1"].shape == (1, 16) and record.widths[0].kept
    assert record.widths[1].note == "failed: this run (sizes 1-24-1) would not fit in memory"


def test_the_aim_and_the_ceiling_bound_when_a_second_network_is_trained():
    data = scaled()
    spread = np.ptp(data.Y)
    first = first_fit(data)
    s = settings.resolve(output="identity")

    def wants(v, **flags):
        return wider.wants_wider(
            first._replace(record=dataclasses.replace(first.record, best_loss=(v * spread) ** 2, **flags)), data, s
        )

    assert not wants(wider.AIM)
    assert wants(1.01 * wider.AIM) and wants(wider.CEILING)
    assert not wants(1.01 * wider.CEILING)  # noise: not a minimum a wider network escapes
    assert not wants(1e-8, interrupted=True) and not wants(1e-8, stopped=True)


def test_only_a_width_left_to_xsq_and_both_networks_by_variable_projection_are_widened():
    s = settings.resolve(output="identity")
    assert wider.could_widen(False, s, 1, 1, 1000)
    assert not wider.could_widen(True, s, 1, 1, 1000)  # --hidden given
    assert not wider.could_widen(False, dataclasses.replace(s, output="softplus"), 1, 1, 1000)  # x^2's default
    assert not wider.could_widen(False, s, 1, 2, 1000)  # two outputs: no variable projection
    assert not wider.could_widen(False, s, 1, 1, 700)  # 595 rows: enough for 16 units, not for 24
    assert not wider.could_widen(False, settings.resolve(output="identity", regularization="l2"), 1, 1, 1000)
    assert not wider.could_widen(False, settings.resolve(output="identity", val_fraction=0.0), 1, 1, 1000)
    bayes = settings.resolve(regularization="bayes")  # the evidence judges, whatever the output and rows
    assert wider.could_widen(False, bayes, 3, 2, 40) and not wider.could_widen(True, bayes, 1, 1, 1000)
    assert not wider.could_widen(False, dataclasses.replace(bayes, hidden=(8, 4)), 1, 1, 1000)


def test_fits_that_never_get_a_second_network():
    x = np.linspace(-1.0, 1.0, 1000)
    reached = xsq.fit(x, np.tanh(20 * x), seed=0)  # to the float64 floor in about 130 steps
    assert reached.record.widths == () and reached.sizes == (1, 16, 1)
    rng = np.random.default_rng(0)
    noisy = xsq.fit(x, np.sin(3 * x) + 0.01 * rng.normal(size=1000), seed=0, epochs=100)  # far above CEILING
    assert noisy.record.widths == ()
    two = xsq.fit(x, np.column_stack([np.sin(3 * x), np.cos(x)]), seed=0, epochs=60)
    assert two.record.widths == () and two.sizes == (1, 16, 2)
    x, y = sine()
    few = xsq.fit(x, y, seed=0, val_fraction=0.009, **SHORT)  # 9 validation rows: a choice by chance
    assert len(few.record.val_rows) == wider.MIN_VAL_ROWS - 1 and few.record.widths == ()


def interrupt_second(at_epoch):
    def callback(info):
        if info.get("network") == 2 and info["epoch"] == at_epoch:
            raise KeyboardInterrupt

    return callback


def test_ctrl_c_at_the_start_of_the_second_network_keeps_the_first(widened, tmp_path):
    _, first = widened
    x, y = sine()
    model = xsq.fit(x, y, seed=0, callback=interrupt_second(0), **SHORT)
    assert model.record.interrupted and model.sizes == (1, 16, 1)
    assert model.record.widths[1].note == "Ctrl-C stopped it before it learnt"
    np.testing.assert_array_equal(model.params["W1"], first.params["W1"])
    model.save(tmp_path / "m.npz")  # a network that learnt nothing reached NaN, written as null, read back as NaN
    back = xsq.load_model(tmp_path / "m.npz").record.widths[1]
    assert math.isnan(back.val_rmse_over_range) and dataclasses.replace(back, val_rmse_over_range=0.0) == (
        dataclasses.replace(model.record.widths[1], val_rmse_over_range=0.0)
    )


def test_ctrl_c_or_a_stop_later_in_the_second_keeps_the_better_so_far(widened):
    _, first = widened
    x, y = sine()
    interrupted = xsq.fit(x, y, seed=0, callback=interrupt_second(20), **SHORT)
    stopped = xsq.fit(x, y, seed=0, callback=lambda info: info.get("network") == 2 and info["epoch"] == 20, **SHORT)
    assert interrupted.record.interrupted and not interrupted.record.stopped
    assert interrupted.record.widths[1].note == "interrupted by Ctrl-C"
    assert stopped.record.stopped and not stopped.record.interrupted
    assert stopped.record.widths[1].note == "stopped by the callback" and stopped.record.widths[1].epochs == 20
    for model in (interrupted, stopped):
        assert model.record.best_loss <= first.record.best_loss


def test_a_first_network_stopped_by_the_callback_gets_no_second():
    x, y = sine()
    heard = []
    model = xsq.fit(x, y, seed=0, callback=lambda info: heard.append(info) or info["epoch"] == 30, **SHORT)
    assert model.record.stopped and model.record.widths == () and not any("network" in i for i in heard)


def survives_its_file_and_refuses(model, tmp_path, crafted):
    """The model's width records come back from its file; each crafted list of width fields (made from the
    record's own) is refused with its problem. Returns the record's plain fields."""
    model.save(tmp_path / "m.npz")
    assert xsq.load_model(tmp_path / "m.npz").record.widths == model.record.widths
    arrays, fields = model.record.to_plain()
    for make, problem in crafted:
        with pytest.raises(InputError, match=problem):
            TrainingRecord.from_plain(dict(fields, widths=make(fields["widths"])), arrays)
    return fields


def test_width_records_survive_a_model_file_and_crafted_ones_are_refused(widened, tmp_path):
    model = widened[0]
    fields = model.record.to_plain()[1]
    crafted = [
        ([dict(w, kept=True) for w in fields["widths"]], "are not two networks of which one was kept"),
        (fields["widths"][:1], "not a list of 2 width records"),
        ("two", "not a list of 2 width records"),
        ([dict(fields["widths"][0], hidden="many"), fields["widths"][1]], "a width record's hidden"),
        ([dict(fields["widths"][0], extra=1), fields["widths"][1]], "a width record must have exactly"),
        ([dict(fields["widths"][0], val_rmse_over_range=-1.0), fields["widths"][1]], "val_rmse_over_range"),
        ([dict(fields["widths"][0], hidden=10**400), fields["widths"][1]], "a width record's hidden"),
        ([dict(w, val_rmse_over_range=None) for w in fields["widths"]], "keep a network that reached no validation"),
        ([fields["widths"][0], dict(fields["widths"][1], val_rmse_over_range=1.0)], "the higher validation error"),
    ]
    survives_its_file_and_refuses(model, tmp_path, [(lambda _, w=widths: w, problem) for widths, problem in crafted])
    with pytest.raises(InputError, match="a width record's hidden"):  # checked as it is made, not only when read
        WidthRecord(-5, 1e-9, 10, 1.0, True)
    with pytest.raises(InputError, match="are not width records"):
        dataclasses.replace(model.record, widths=tuple(fields["widths"]))
    w16, w24 = model.record.widths  # the first kept, by its lower error, for a model of the second's width:
    wrong = (dataclasses.replace(w16, kept=True), dataclasses.replace(w24, kept=False, val_rmse_over_range=1.0))
    with pytest.raises(InputError, match="its width records keep a network of"):
        dataclasses.replace(model, record=dataclasses.replace(model.record, widths=wrong))
    x, y = sine(n=100)
    bayes = xsq.fit(x, y, regularization="bayes", epochs=20)
    kept = tuple(
        dataclasses.replace(w, hidden=h, kept=h == bayes.sizes[1]) for w, h in zip(model.record.widths, (8, 12))
    )
    with pytest.raises(InputError, match="keep a network that reached no log evidence"):  # judged by the evidence
        dataclasses.replace(bayes, record=dataclasses.replace(bayes.record, widths=kept))


def test_snapshots_keep_each_network_apart_and_give_the_kept_ones(widened):
    snaps = Snapshots()
    for e in range(5):
        snaps({"epoch": e, "phase": "running", "train_loss": 1.0, "val_loss": 1.0, "params": {"W1": np.zeros((1, 16))}})
    for e in range(3):
        info = {"epoch": e, "phase": "running", "train_loss": 1.0, "val_loss": 1.0, "params": {"W1": np.zeros((1, 24))}}
        snaps({**info, "network": 2})
    model, first = widened
    assert [s.epoch for s in snaps.kept_by(first.record)] == list(range(5))
    kept = snaps.kept_by(model.record)
    assert [s.epoch for s in kept] == [0, 1, 2] and kept[0].params["W1"].shape == (1, model.sizes[1])


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


def train_cli(capsys, tmp_path, argv):
    """``xsq train ARGV`` into a fresh folder: its stdout, its metrics.json, and its ``hidden:`` line."""
    import json

    from xsq.cli.main import main

    assert main(["train", *argv, "--quiet", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    return out, metrics, next(line for line in out.splitlines() if line.startswith("hidden: "))


def test_the_cli_says_what_each_network_reached(capsys, tmp_path):
    argv = ["--target", "sin(3*x)*cos(x)", "--low", "0", "--high", "3", "--epochs", "80", "--restarts", "1"]
    out, metrics, line = train_cli(capsys, tmp_path, argv)
    w16, w24 = metrics["widths"]
    kept = 24 if w24["kept"] else 16
    assert line == (
        f"hidden: {kept} (validation RMSE/range: 16 units reached {w16['val_rmse_over_range']:.2g}; 24 units reached "
        f"{w24['val_rmse_over_range']:.2g}; the {kept} were kept (a wider network is tried when the first ends "
        f"between {wider.AIM:g} and {wider.CEILING:g}))"
    )
    assert metrics["sizes"] == [1, kept, 1] and metrics["train_seconds"] == pytest.approx(
        w16["seconds"] + w24["seconds"]
    )
    wall = f"wall time {metrics['train_seconds']:.2f} s, two networks ({metrics['epochs']} epochs of the kept one"
    assert wall in " ".join(out.split())


def test_names_a_comma_or_edge_space_would_blur_are_quoted_in_lists():
    from xsq.validation import quoted_name

    assert [quoted_name(n) for n in ("u", "speed, m/s", " v", "temp °C")] == ["u", "'speed, m/s'", "' v'", "temp °C"]


def test_the_kept_network_is_a_plain_network_of_its_width(widened):
    """The kept parameters give the model's predictions through net.forward, the reading path."""
    model = widened[0]
    x = np.linspace(0.0, 3.0, 7)
    raw = model.scaler.outputs(net.forward(model.params, model.scaler.inputs(x[:, None]), "sigmoid", "identity"))
    np.testing.assert_allclose(raw, model.predict(x), rtol=0, atol=1e-12)


def test_ten_validation_rows_are_enough_to_choose_by_and_nine_are_not():
    s = settings.resolve(output="identity")
    assert wider.could_widen(False, dataclasses.replace(s, val_fraction=0.01), 1, 1, 1000)  # 10 rows
    assert not wider.could_widen(False, dataclasses.replace(s, val_fraction=0.0094), 1, 1, 1000)  # 9 rows


@pytest.mark.parametrize(
    "argv, two",
    [
        (["--target", "sin(3*x)"], True),  # identity output, by variable projection: a second network may follow
        (["--target", "sin(3*x)", "--hidden", "16"], False),
        (["--target", "x**2", "--low", "1", "--high", "100"], False),  # softplus: never widened
        (["--target", "2+sin(3*x)", "--output", "softplus"], False),
    ],
)
def test_the_long_run_note_counts_a_second_network_only_where_one_may_follow(capsys, tmp_path, monkeypatch, argv, two):
    from xsq.cli.commands import train as train_command
    from xsq.cli.main import main

    monkeypatch.setattr(train_command, "LONG_RUN", 0)
    argv = ["train", "--low", "0", "--high", "3", *argv, "--epochs", "30", "--restarts", "0", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "r")]) == 0
    err = capsys.readouterr().err
    assert err.startswith("xsq train: note: this run may take up to")
    assert ("for each of up to two networks" in err) == two


def test_the_hidden_line_says_a_network_that_learnt_nothing_reached_nothing():
    from xsq.cli.report import hidden_line

    widths = (
        WidthRecord(16, 2e-9, 1300, 1.0, True),
        WidthRecord(24, math.nan, 0, 0.1, False, "Ctrl-C stopped it before it learnt"),
    )
    assert hidden_line(widths).startswith(
        "validation RMSE/range: 16 units reached 2e-09; 24 units reached nothing (Ctrl-C stopped it before it "
        "learnt); the 16 were kept"
    )


def test_width_records_are_refused_on_a_network_of_two_hidden_layers(widened):
    model = widened[0]
    deep = xsq.fit(*sine(n=200), hidden=(model.sizes[1], 4), epochs=30)  # its first layer as wide as the kept
    with pytest.raises(InputError, match="its width records keep a network of"):
        dataclasses.replace(deep, record=dataclasses.replace(deep.record, widths=model.record.widths))


def test_snapshots_of_a_fit_that_tried_a_wider_network_and_kept_the_first(widened):
    snaps = Snapshots()
    snaps({"epoch": 0, "phase": "running", "train_loss": 1.0, "val_loss": 1.0, "params": {"W1": np.zeros((1, 16))}})
    snaps(
        {
            "epoch": 0,
            "phase": "running",
            "train_loss": 1.0,
            "val_loss": 1.0,
            "params": {"W1": np.zeros((1, 24))},
            "network": 2,
        }
    )
    record = widened[0].record
    first_kept = dataclasses.replace(
        record,
        widths=tuple(dataclasses.replace(w, kept=w.hidden == 16, val_rmse_over_range=w.hidden) for w in record.widths),
    )
    assert snaps.kept_by(first_kept)[0].params["W1"].shape == (1, 16)


# --- Bayesian fits: a wider network when the residuals at neighbouring inputs are correlated -------------------


def damped(seed=3, n=400, noise=1e-3):
    """A damped oscillation measured with noise 1e-3: with seed 3, 8 units leave runs of residuals of one sign."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.0, 6.0, n)
    return t, np.exp(-t / 2) * np.cos(3 * t) + rng.normal(0.0, noise, n)


def damped_csv(folder, **draw):
    """:func:`damped` written as a CSV file (t, y) in ``folder``; its path, as text."""
    t, y = damped(**draw)
    (folder / "d.csv").write_text("t,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(t, y)))
    return str(folder / "d.csv")


@pytest.fixture(scope="module")
def grown_bayes():
    t, y = damped()
    return xsq.fit(t, y, regularization="bayes"), xsq.fit(t, y, regularization="bayes", hidden=8)


def test_a_bayesian_fit_that_leaves_structure_grows_and_keeps_the_higher_evidence(grown_bayes):
    model, first = grown_bayes
    assert first.record.widths == () and first.sizes == (1, 8, 1)  # a width given is never widened
    w8, w12 = model.record.widths
    assert (w8.hidden, w12.hidden, w8.kept, w12.kept) == (8, 12, False, True) and model.sizes == (1, 12, 1)
    t, y = damped()
    assert w8.neighbour_z > wider.MISFIT_Z and w8.neighbour_z == pytest.approx(
        neighbour_z(t[:, None], y[:, None] - first.predict(t)), rel=1e-9
    )  # the same first network, from its predictions on the raw data
    assert w8.log_evidence == first.record.evidence.log_evidence < w12.log_evidence
    assert model.record.evidence.log_evidence == w12.log_evidence
    assert w12.neighbour_z == pytest.approx(neighbour_z(t[:, None], y[:, None] - model.predict(t)), rel=1e-9)
    assert w12.neighbour_z < wider.MISFIT_Z
    assert model.record.seconds == pytest.approx(w8.seconds + w12.seconds)
    assert model.record.settings["hidden"] == (12,) and math.isnan(w12.val_rmse_over_range)
    # what it was for: 8 units read their misfit as noise; 12 find the measurement's noise level of 1e-3
    assert first.record.evidence.noise_level[0] > 2e-3 and model.record.evidence.noise_level[0] < 1.1e-3


def test_a_bayesian_fit_that_uses_nearly_every_parameter_grows_too():
    """With seed 1 the 8 units' residuals show no runs (z below 4), but gamma is above 0.9 of their 25
    parameters: the evidence finds no room left, and 12 units win it."""
    t, y = damped(seed=1)
    model, first = xsq.fit(t, y, regularization="bayes"), xsq.fit(t, y, regularization="bayes", hidden=8)
    w8, w12 = model.record.widths
    assert w8.neighbour_z < wider.MISFIT_Z and w8.gamma == first.record.evidence.gamma > wider.FULL * 25
    assert w12.kept and w12.gamma == model.record.evidence.gamma and w12.log_evidence > w8.log_evidence


def test_a_bayesian_fit_without_structure_trains_one_network():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3.0, 3.0, 300)
    model = xsq.fit(x, np.sin(2 * x) + 0.3 * rng.normal(size=300), regularization="bayes")
    assert model.record.widths == () and model.sizes == (1, 8, 1)


def test_a_grown_bayesian_model_survives_its_file_and_crafted_records_are_refused(grown_bayes, tmp_path):
    crafted = [
        (lambda ws: [dict(w, log_evidence=None) for w in ws], "keep a network that reached no log evidence"),
        (lambda ws: [dict(w, neighbour_z="high") for w in ws], "a width record's neighbour_z"),
        (lambda ws: [ws[0], dict(ws[1], hidden=8)], "do not hold a second network wider than the first"),
        (lambda ws: [ws[0], dict(ws[1], note="interrupted by Ctrl-C")], "keep a network that did not run to its end"),
        (lambda ws: [dict(ws[0], kept=True), dict(ws[1], kept=False)], "keep the network of the lower log evidence"),
        (lambda ws: [ws[0], dict(ws[1], log_evidence=ws[0]["log_evidence"])], "the lower log evidence"),  # a tie
    ]
    survives_its_file_and_refuses(grown_bayes[0], tmp_path, crafted)
    l2 = xsq.fit(*damped(n=100), regularization="l2", epochs=20)
    with pytest.raises(InputError, match="an l2 fit never tries a wider network"):
        dataclasses.replace(l2.record, widths=grown_bayes[0].record.widths)


def test_width_records_of_older_files_load_and_evidence_on_an_unregularised_fit_is_refused(widened, tmp_path):
    model = widened[0]
    arrays, fields = model.record.to_plain()
    older = [{k: v for k, v in w.items() if k not in BAYES_WIDTH_FIELDS} for w in fields["widths"]]
    loaded = TrainingRecord.from_plain(dict(fields, widths=older), arrays)  # written before these fields
    assert loaded.widths == model.record.widths and all(math.isnan(w.log_evidence) for w in loaded.widths)
    half = [{k: v for k, v in w.items() if k != "neighbour_z"} for w in fields["widths"]]
    crafted = [
        (lambda _: half, "a width record must have exactly"),  # no version wrote one of the two
        (lambda ws: [dict(w, log_evidence=12.0) for w in ws], "hold what the evidence measures"),
        (lambda ws: [dict(w, neighbour_z=1.0) for w in ws], "hold what the evidence measures"),
    ]
    survives_its_file_and_refuses(model, tmp_path, crafted)


@pytest.mark.parametrize("when", ["ctrl-c", "ctrl-c at once", "stop", "stop at its mode", "fails"])
def test_a_second_bayesian_network_cut_short_or_failing_keeps_the_first(grown_bayes, monkeypatch, when):
    """Even a second network stopped at its mode, where its evidence is the higher, is not kept: the run was
    stopped, and a stopped run's evidence is not compared."""
    first = grown_bayes[1]
    t, y = damped()

    def callback(info):
        if info.get("network") != 2:
            return None
        if when == "stop at its mode":
            return info["phase"] == "converged"
        if info["epoch"] == (0 if when == "ctrl-c at once" else 5):
            if when == "stop":
                return True
            raise KeyboardInterrupt

    if when == "fails":
        checked = wider.check_memory

        def refuse(n, sizes, *rest):
            if sizes[1] == 12:
                raise InputError("a 12-unit network would not fit in memory")
            return checked(n, sizes, *rest)

        monkeypatch.setattr(wider, "check_memory", refuse)
    model = xsq.fit(t, y, regularization="bayes", callback=callback)
    w8, w12 = model.record.widths
    assert w8.kept and not w12.kept and model.sizes == (1, 8, 1)
    np.testing.assert_array_equal(model.predict(t), first.predict(t))  # the first network, as fitted alone
    assert model.record.interrupted == when.startswith("ctrl-c") and model.record.stopped == when.startswith("stop")
    if when == "stop at its mode":
        assert w12.log_evidence > w8.log_evidence
    note = {
        "ctrl-c": "interrupted by Ctrl-C",
        "ctrl-c at once": "Ctrl-C stopped it before it learnt",
        "stop": "stopped by the callback",
        "stop at its mode": "stopped by the callback",
        "fails": "failed: a 12-unit network would not fit in memory",
    }[when]
    assert w12.note == note


def test_the_cli_says_what_each_bayesian_network_reached(capsys, tmp_path):
    # 80 % of the rows train here: with seed 9 their 8 units leave structure
    _, metrics, line = train_cli(capsys, tmp_path, ["--data", damped_csv(tmp_path, seed=9)])
    w8, w12 = metrics["widths"]
    kept = 12 if w12["kept"] else 8
    assert line == (
        f"hidden: {kept} (8 units: log evidence {w8['log_evidence']:.1f}, gamma {w8['gamma']:.1f} of 25, neighbour z "
        f"{w8['neighbour_z']:.1f}; 12 units: log evidence {w12['log_evidence']:.1f}, gamma {w12['gamma']:.1f} of 37, "
        f"neighbour z {w12['neighbour_z']:.1f}; the {kept} units were kept by log evidence; 12 were tried for the "
        f"first's neighbour z above {wider.MISFIT_Z:g}"
        + (" and gamma above 22.5 (0.9 of 25))" if w8["gamma"] > 22.5 else ")")
    )
    assert kept == 12 and w12["log_evidence"] > w8["log_evidence"]
    assert w8["neighbour_z"] > wider.MISFIT_Z and metrics["sizes"] == [1, kept, 1]


@pytest.mark.parametrize("argv, two", [([], True), (["--hidden", "8"], False), (["--regularization", "l2"], False)])
def test_the_long_run_note_counts_a_second_bayesian_network(capsys, tmp_path, monkeypatch, argv, two):
    from xsq.cli.commands import train as train_command
    from xsq.cli.main import main

    monkeypatch.setattr(train_command, "LONG_RUN", 0)
    argv = [
        "train",
        "--data",
        damped_csv(tmp_path, n=40),
        *argv,
        "--epochs",
        "30",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.startswith("xsq train: note: this run may take up to")
    assert ("for each of up to two networks" in err) == two


def test_a_stalled_second_bayesian_network_keeps_the_first(grown_bayes, monkeypatch):
    first = grown_bayes[1]
    real = wider.run_regularised

    def stalls(data, rng, s, callback, scaler, **fields):
        return real(data, rng, s, callback, scaler, **fields)._replace(stalled=True)

    monkeypatch.setattr(wider, "run_regularised", stalls)
    t, y = damped()
    model = xsq.fit(t, y, regularization="bayes")
    w8, w12 = model.record.widths
    assert w8.kept and w12.note == "did not learn" and model.sizes == (1, 8, 1)
    np.testing.assert_array_equal(model.predict(t), first.predict(t))


def test_the_hidden_line_of_a_bayesian_fit_says_why_the_kept_network_was_kept_and_which_signs_fired():
    from xsq.cli.report import hidden_line

    first = WidthRecord(8, math.nan, 300, 1.0, True, "", 900.0, 6.1, 23.0)
    done = (first, WidthRecord(12, math.nan, 300, 1.0, False, "", 800.0, 0.2, 30.0))
    line = hidden_line(done, (1, 1))  # one input: 8 units have 25 parameters
    assert line.endswith(
        "; the 8 units were kept by log evidence; 12 were tried for the first's neighbour z above 4 "
        "and gamma above 22.5 (0.9 of 25)"
    )
    line = hidden_line((dataclasses.replace(first, gamma=20.0), done[1]), (1, 1))
    assert line.endswith("12 were tried for the first's neighbour z above 4")
    cut = (first, dataclasses.replace(done[1], log_evidence=1000.0, note="interrupted by Ctrl-C"))
    line = hidden_line(cut, (2, 1))  # two inputs: 8 units have 33 parameters, 12 have 49
    assert line.startswith("8 units: log evidence 900.0, gamma 23.0 of 33, neighbour z 6.1; 12 units: log")
    assert "12 units: log evidence 1000.0, gamma 30.0 of 49, neighbour z 0.2 (interrupted by Ctrl-C)" in line
    assert "; the 8 units were kept as the second was cut short;" in line
    for note, how in (("failed: planted", "failed"), ("did not learn", "did not learn")):
        assert f"were kept as the second {how};" in hidden_line(
            (first, dataclasses.replace(done[1], note=note)), (1, 1)
        )


def test_the_kept_network_s_evidence_must_be_the_record_s_and_no_gamma_above_its_parameters(grown_bayes):
    model = grown_bayes[0]
    w8, w12 = model.record.widths
    with pytest.raises(InputError, match="keep a network whose log evidence or gamma is not its own"):
        dataclasses.replace(model.record, widths=(w8, dataclasses.replace(w12, gamma=5.0)))
    with pytest.raises(InputError, match="give 8 hidden units a gamma above their parameters"):
        dataclasses.replace(
            model, record=dataclasses.replace(model.record, widths=(dataclasses.replace(w8, gamma=26.0), w12))
        )


@pytest.mark.parametrize("call", [1, 2, 3])
def test_ctrl_c_while_a_neighbour_z_is_measured_keeps_what_was_trained(monkeypatch, call):
    """The first z decides whether a second network is tried; the other two go into the records (the second
    network's, then the first's)."""
    real, calls = wider.fit_neighbour_z, []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(wider, "fit_neighbour_z", interrupted)
    t, y = damped()
    model = xsq.fit(t, y, regularization="bayes")
    assert model.record.interrupted
    if call == 1:
        assert model.record.widths == () and model.sizes == (1, 8, 1)
    else:
        measured = model.record.widths[1 if call == 2 else 0]  # the second network's z is measured first
        assert len(model.record.widths) == 2 and math.isnan(measured.neighbour_z)


def test_a_bayesian_first_network_that_stalled_with_structure_left_tries_a_wider_one(monkeypatch):
    from xsq.training import train

    real = train.run_regularised
    monkeypatch.setattr(train, "run_regularised", lambda *a, **k: real(*a, **k)._replace(stalled=True))
    t, y = damped()
    model = xsq.fit(t, y, regularization="bayes")
    assert len(model.record.widths) == 2
