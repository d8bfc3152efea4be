"""Signals on the command line: a swallowed Ctrl-C is raised again at the next checkpoint, the exit status
names the signal, and nothing outlives the command."""

import os
import signal

import pytest

import xsq
from xsq.cli import interrupts
from xsq.cli.main import main


def test_a_swallowed_signal_comes_back_at_the_checkpoint():
    with interrupts.installed():
        try:  # a finalizer, say, that catches everything
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        with pytest.raises(KeyboardInterrupt):
            interrupts.checkpoint()
        interrupts.checkpoint()  # raised once: not again
        assert interrupts.exit_status() == 130


def test_the_exit_status_names_the_signal_even_once_handled():
    with interrupts.installed():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
        with pytest.raises(KeyboardInterrupt):
            interrupts.checkpoint()
        assert interrupts.exit_status() == 128 + signal.SIGTERM


def test_nothing_outlives_the_command():
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.installed():
        assert signal.getsignal(signal.SIGTERM) is interrupts.handler
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
    interrupts.checkpoint()  # the noted signal went with the command
    assert interrupts.exit_status() == 130  # the default again, not 143


def test_a_signal_started_ignored_stays_ignored():
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with interrupts.installed():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is interrupts.handler
            with pytest.raises(KeyboardInterrupt):
                with interrupts.deferred():
                    assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
                    os.kill(os.getpid(), signal.SIGHUP)  # ignored: it neither stops the steps nor hides the next
                    os.kill(os.getpid(), signal.SIGINT)
            assert interrupts.exit_status() == 130
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_deferred_steps_are_not_split(signum):
    done = []
    with interrupts.installed():
        with pytest.raises(KeyboardInterrupt):
            with interrupts.deferred():
                os.kill(os.getpid(), signum)
                done.append("the step after the signal")
        assert done and interrupts.exit_status() == 128 + signum


@pytest.mark.parametrize("stages,at", [(1, 30), (3, 130)])  # in the first stage, and in a later one
def test_a_swallowed_ctrl_c_stops_training_with_its_best_so_far(capsys, tmp_path, monkeypatch, stages, at):
    from xsq.training import lm_policy

    real, calls = lm_policy.lm_step, []

    def step(*args):
        calls.append(1)
        if len(calls) == at:
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:
                pass  # lost here, as in a finalizer; the next epoch's checkpoint raises it again
        return real(*args)

    monkeypatch.setattr(lm_policy, "lm_step", step)
    argv = ["train", "--quiet", "--restarts", "0", "--epochs", "100", "--stages", str(stages)]
    code = main([*argv, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted: saved the best model so far" in err, err
    model = xsq.load_model(tmp_path / "r" / "model.npz")
    assert model.record.interrupted and len(calls) <= at + 1


def _sigint_on(calls: list, n: int):
    calls.append(1)
    if len(calls) == n:
        os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("stage", ["while drawing", "during writing"])
def test_a_trained_run_is_saved_whatever_the_ctrl_c_interrupts(capsys, tmp_path, monkeypatch, stage):
    import types

    import xsq.cli.commands
    from xsq.cli import runfolder

    calls = []
    if stage == "while drawing":
        figures = types.SimpleNamespace(figures=lambda *args: _sigint_on(calls, 1) or {"fit.png": b"png"})
        monkeypatch.setattr(xsq.cli.commands, "PLOTTING", True)
        monkeypatch.setattr(xsq.cli.commands, "drawing", lambda module: figures)
    else:
        write = runfolder.write_atomic
        monkeypatch.setattr(runfolder, "write_atomic", lambda *a, **k: _sigint_on(calls, 2) or write(*a, **k))
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_text("the previous run")
    (out / "metrics.json").write_text("{}")
    code = main(["train", "--quiet", "--restarts", "0", "--epochs", "50", "--out", str(out), "--overwrite"])
    err = capsys.readouterr().err
    assert code == 130 and f"xsq train: interrupted: the run was saved to {out}" in err and calls, err
    assert not xsq.load_model(out / "model.npz").record.interrupted  # the whole run, trained to its end
    assert ("fit.png" in os.listdir(out)) == (stage == "while drawing")


def test_a_held_signal_waits_for_the_next_checkpoint_and_a_second_does_not():
    with interrupts.installed(), interrupts.held():
        os.kill(os.getpid(), signal.SIGINT)  # held
        done = "the steps after it"
        with pytest.raises(KeyboardInterrupt):
            interrupts.checkpoint()
        os.kill(os.getpid(), signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # asked twice: at once
        assert done and interrupts.exit_status() == 128 + signal.SIGTERM


def test_a_signal_just_after_the_last_epoch_still_saves_the_run(capsys, tmp_path, monkeypatch):
    from xsq.training import loop

    judge = loop._judge

    def interrupting(*args):  # after the last epoch, before fit returns its model
        os.kill(os.getpid(), signal.SIGINT)
        return judge(*args)

    monkeypatch.setattr(loop, "_judge", interrupting)
    code = main(["train", "--quiet", "--restarts", "0", "--epochs", "50", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 130 and "interrupted: the run was saved to" in err, err
    assert not xsq.load_model(tmp_path / "r" / "model.npz").record.interrupted
