"""xsq train --animate and xsq diagnose --animate: the snapshots are the network as it was at their epochs,
the frames are spaced as documented, and the GIFs are real, small and complete."""

import os

import numpy as np
import pytest
from PIL import Image

import xsq
from xsq.cli.main import main
from xsq.core.losses import LOSSES
from xsq.core.net import forward
from xsq.training.snapshots import Snapshots, log_schedule

MB = 2**20


@pytest.fixture
def drawing(monkeypatch):
    """Runs draw their animation but not their PNGs (those have tests of their own, and take a second)."""
    import xsq.cli.commands
    from xsq.cli import plots

    monkeypatch.setattr(xsq.cli.commands, "PLOTTING", True)
    monkeypatch.setattr(plots, "figures", lambda *args: {})
    monkeypatch.setattr(plots, "data_figures", lambda *args: {})


def frames_of(path) -> list[np.ndarray]:
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append(np.asarray(im.convert("RGB")))
        return out


def test_log_schedule_is_dense_then_geometric():
    kept = log_schedule(5000)
    assert list(kept[:21]) == list(range(21)) and kept[-1] == 5000
    ratios = kept[22:-1] / kept[21:-2]
    assert np.all(ratios >= 1.03 - 1e-12) and np.all(ratios < 1.1)
    assert list(log_schedule(7)) == list(range(8))


def test_snapshots_are_the_network_at_their_epoch(x2_data):
    x, y = x2_data
    snaps = Snapshots()
    model = xsq.fit(x[:300], y[:300], epochs=120, seed=1, callback=snaps)
    h, kept = model.record.history, snaps.network(1)
    epochs = [s.epoch for s in kept]
    assert epochs == sorted(set(epochs)) and epochs[0] == 0 and epochs[-1] == h.epoch[-1]
    assert set(log_schedule(int(h.epoch[-1]))) <= set(epochs)
    # each snapshot's parameters give, on the training data, the loss the loop recorded for that epoch
    Xs, Ys = model.scaler.inputs(x[:300, None]), model.scaler.targets(y[:300, None])
    train = np.setdiff1d(np.arange(300), model.record.val_rows)
    for s in kept[:: max(1, len(kept) // 12)] + kept[-1:]:
        pred = forward(s.params, Xs[train], model.activation, model.output)
        loss = float(LOSSES["mse"].fn(pred, Ys[train]))
        assert loss == pytest.approx(h.train_loss[s.epoch], rel=1e-9) == pytest.approx(s.train_loss, rel=1e-12)
    best = next(s for s in kept if s.epoch == model.record.best_epoch) if model.record.best_epoch in epochs else None
    if best is not None:
        assert all(np.array_equal(best.params[k], model.params[k]) for k in model.params)


def test_frames_are_spaced_by_log_epoch_and_change():
    from xsq.cli.training_animation import SCREENING_SHARE, choose_frames, positions

    epochs = np.arange(1001)
    flat = positions(epochs, np.full(1001, 0.1), np.zeros(1001, bool))  # nothing changes: log epoch alone
    chosen = choose_frames(flat, n=48)
    assert chosen[0] == 0 and chosen[-1] == 1000 and 20 <= len(chosen) <= 48
    assert np.all(np.diff(chosen) > 0)
    assert np.median(chosen) <= 100  # evenly spaced in epoch, it would be about 500
    gaps = np.diff(np.log1p(chosen[chosen >= 20]))  # once whole epochs no longer crowd them: even in log
    assert np.all(np.abs(gaps / np.log1p(1000) * 47 - 1) < 0.35)
    errors = np.where(epochs < 900, 1e-1, 1e-9)  # one late jump: frames gather around it
    late = choose_frames(positions(epochs, errors, np.zeros(1001, bool)), n=48)
    assert {899, 900} <= set(late) and len(late) <= 25  # the targets that fall on the jump are lost...
    filled = choose_frames(positions(epochs, errors, np.zeros(1001, bool)), flat, n=48)
    assert set(late) <= set(filled) and 40 <= len(filled) <= 48  # ...unless made up by log epoch
    screening = epochs < 600
    split = choose_frames(positions(epochs, np.full(1001, 0.1), screening), n=48)
    assert abs(np.mean(split < 600) - SCREENING_SHARE) < 0.08
    assert list(choose_frames(np.linspace(0, 1, 10), n=48)) == list(range(10))


def test_train_animate_writes_a_small_gif_of_many_frames(capsys, tmp_path, drawing):
    out = tmp_path / "r"
    code = main(["train", "--n", "300", "--epochs", "120", "--quiet", "--animate", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "training.gif" in printed, printed
    path = out / "training.gif"
    assert os.path.getsize(path) <= 5 * MB
    frames = frames_of(path)
    assert len(frames) >= 20
    distinct = {f.tobytes() for f in frames}
    assert len(distinct) == len(frames)  # Pillow merges repeated frames: each one shows something new
    assert frames[0].shape[0] >= 300 and frames[0].shape[1] >= 600


def test_train_animate_on_measured_data_and_refusals(capsys, tmp_path, drawing):
    data = tmp_path / "d.csv"
    x = np.linspace(0.0, 3.0, 60)
    np.savetxt(data, np.column_stack([x, np.sin(x) + 2, x**2]), delimiter=",", header="x,s,q", comments="")
    args = ["train", "--data", str(data), "--inputs", "x", "--epochs", "30", "--quiet", "--animate"]
    assert main([*args, "--outputs", "s", "--out", str(tmp_path / "one")]) == 0
    assert len(frames_of(tmp_path / "one" / "training.gif")) >= 20
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "two"), "--outputs", "s,q"]) == 2
    err = capsys.readouterr().err
    assert "--animate draws one input against one output" in err and err.count("\n") == 1
    assert not (tmp_path / "two").exists()


def test_animate_without_matplotlib_is_refused_before_anything_is_written(capsys, tmp_path):
    # outside tests marked "plots", xsq.cli.commands.PLOTTING is False: as without matplotlib
    assert main(["train", "--epochs", "20", "--quiet", "--animate", "--out", str(tmp_path / "r")]) == 2
    assert "--animate needs matplotlib: pip install 'xsq[plot]'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_an_animation_matplotlib_cannot_draw_is_skipped_and_the_run_saved(capsys, tmp_path, monkeypatch, drawing):
    from xsq.cli import animation

    def no_latex(*args, **kwargs):
        raise RuntimeError("Failed to process string with tex because latex could not be found")

    monkeypatch.setattr(animation._BlitWriter, "grab_frame", no_latex)
    code = main(["train", "--n", "200", "--epochs", "30", "--quiet", "--animate", "--out", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0 and "animation skipped: matplotlib could not draw (RuntimeError: Failed" in out
    assert "training.gif" not in os.listdir(tmp_path / "r") and "model.npz" in os.listdir(tmp_path / "r")


def test_the_recorded_runs_are_the_questions_runs():
    from xsq.lab import question as q
    from xsq.lab.recorded import _outputs, frame_steps, recorded_runs

    steps, seed = 1250, 6  # seed 6 goes non-finite soonest of the first few: at step 1167
    runs = recorded_runs(steps, seed)
    reference = q.run(steps, seed)
    assert [r.title for r in runs] == ["the question's run", "stable formulas", "scaled data"]
    question, stable, scaled = runs
    assert (question.nonfinite_step, question.nonfinite_op) == (1167, reference.first_nonfinite_op)
    assert stable.nonfinite_step is None and scaled.nonfinite_step is None
    at = list(question.steps)
    assert at[0] == 0 and at[-1] == steps and list(range(1162, 1170)) == at[at.index(1162) : at.index(1162) + 8]
    finite = [bool(np.all(np.isfinite(o))) for o in question.outputs]
    assert all(finite[: at.index(1162) + 1]) and not any(finite[at.index(1168) :])
    grid = np.arange(1.0, 101.0)[:, None]  # the last frame is the network q.run ends with
    end = q.run(steps, seed, fns=q.STABLE, check=False).params
    assert np.allclose(stable.outputs[-1], _outputs(end, grid, q.STABLE, None))
    assert (
        list(frame_steps(50, None, n=10)) == sorted(set(frame_steps(50, None, n=10)))
        and frame_steps(50, None)[-1] == 50
    )


def fake_diagnose(monkeypatch):
    from xsq.cli.commands import diagnose

    monkeypatch.setattr(diagnose, "diagnose", lambda **kw: {"output_range_softplus": 709.78})
    monkeypatch.setattr(diagnose, "format_report", lambda result: "the report")


def test_diagnose_animate_writes_the_runs_frame_by_frame(capsys, tmp_path, monkeypatch, drawing):
    fake_diagnose(monkeypatch)  # the measurements have tests of their own; here, the animation
    out = tmp_path / "d"
    assert main(["diagnose", "--animate", "--out", str(out), "--steps", "30", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("the report\n") and "wrote diagnose.gif to" in printed
    assert os.listdir(out) == ["diagnose.gif"] and os.path.getsize(out / "diagnose.gif") <= 5 * MB
    frames = frames_of(out / "diagnose.gif")
    assert len(frames) >= 20 and frames[0].shape[1] >= 600
    assert main(["diagnose", "--animate", "--out", str(out), "--steps", "50", "--quiet"]) == 2
    assert "already holds an earlier run" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,message",
    [
        (["--animate"], "--animate needs --out DIR"),
        (["--out", "OUT"], "--out is where --animate writes diagnose.gif; add --animate"),
        (["--animate", "--out", "MINE"], "holds files this command does not write (notes.txt)"),
    ],
)
def test_diagnose_animate_refuses_before_measuring(capsys, tmp_path, monkeypatch, drawing, args, message):
    from xsq.cli.commands import diagnose

    monkeypatch.setattr(diagnose, "diagnose", lambda **kw: pytest.fail("measured before refusing"))
    (tmp_path / "MINE").mkdir()
    (tmp_path / "MINE" / "notes.txt").write_text("the user's")
    monkeypatch.chdir(tmp_path)
    assert main(["diagnose", "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert sorted(os.listdir(tmp_path)) == ["MINE"] and os.listdir(tmp_path / "MINE") == ["notes.txt"]
