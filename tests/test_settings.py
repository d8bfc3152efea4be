"""The settings table: one place that checks every training setting for fit and the command line."""

import pytest

import xsq
from xsq.cli import build_parser
from xsq.settings import PER_OPTIMIZER, SETTINGS, resolve


def test_defaults_fill_per_optimizer():
    s = resolve()
    assert (s.optimizer, s.epochs, s.restarts, s.lr, s.grad) == ("lm", 1300, 4, None, None)
    s = resolve(optimizer="adam")
    assert (s.epochs, s.lr, s.grad, s.restarts) == (10000, 0.01, "autograd", 0)
    assert resolve(hidden=16.0, epochs=5.0).hidden == (16,) and resolve(epochs=5.0).epochs == 5


def test_every_setting_is_an_option_of_xsq_train():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {a.dest for a in train._actions}
    assert set(SETTINGS) - {"scale"} <= flags
    for name in SETTINGS:
        if any(name in d for d in PER_OPTIMIZER.values()):
            help_ = next(a.help for a in train._actions if a.dest == name)
            assert all(f"{opt} {d[name]}" in help_ for opt, d in PER_OPTIMIZER.items() if name in d)


def test_unknown_setting():
    with pytest.raises(xsq.InputError, match="unknown setting 'hiden'"):
        resolve(hiden=3)
