"""The third hostile pass: each class of broken promise, pinned at its root (one test per class)."""

from __future__ import annotations

import signal

import pytest

from xsq.cli.main import main
from xsq.training import train as train_module


def test_diagnose_honours_an_interrupt_inside_xsqs_fit(monkeypatch, capsys):
    """Class 6: a Ctrl-C that lands in fit (which keeps the best so far) stops diagnose with 130, no report."""
    real = train_module.run

    def interrupted(steps, data, s, callback=None, **fields):
        def each(info):
            if info["epoch"] == 12:
                signal.raise_signal(signal.SIGINT)

        return real(steps, data, s, each, **fields)

    monkeypatch.setattr(train_module, "run", interrupted)
    code = main(["diagnose", "--steps", "10", "--quiet"])
    out, err = capsys.readouterr()
    assert (code, out) == (130, "")
    assert err.count("\n") == 1 and "interrupted" in err
