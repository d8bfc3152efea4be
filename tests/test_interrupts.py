"""Signals on the command line: a swallowed Ctrl-C is raised again at the next checkpoint, the exit status
names the signal, and nothing outlives the command."""

import os
import signal

import numpy as np
import pytest

import xsq
from xsq import interrupts


def test_a_swallowed_signal_comes_back_at_the_checkpoint():
    with interrupts.installed():
        try:  # a finalizer, say, that catches everything
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            pass
        with pytest.raises(KeyboardInterrupt):
            interrupts.checkpoint()
        interrupts.handled()
        interrupts.checkpoint()  # handled: no longer raised
        assert interrupts.exit_status() == 130


def test_the_exit_status_names_the_signal_even_once_handled():
    with interrupts.installed():
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
        interrupts.handled()
        assert interrupts.exit_status() == 128 + signal.SIGTERM


def test_nothing_outlives_the_command():
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.installed():
        assert signal.getsignal(signal.SIGTERM) is interrupts.handler
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before
    interrupts.checkpoint()  # the noted signal went with the command
    assert interrupts.exit_status() == 130


def test_training_stops_at_the_checkpoint_with_its_best_so_far():
    x = np.linspace(1, 10, 50)

    def swallow_at(info):
        if info["epoch"] == 30:
            try:
                os.kill(os.getpid(), signal.SIGINT)
            except KeyboardInterrupt:
                pass  # lost here, as in a finalizer; the next epoch's checkpoint raises it again

    with interrupts.installed():
        model = xsq.fit(x, x**2, hidden=4, callback=swallow_at, restarts=0)
        assert interrupts.exit_status() == 130
    assert model.record.interrupted and model.record.history.epoch[-1] == 30  # stopped before epoch 31
