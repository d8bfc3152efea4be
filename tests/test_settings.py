"""The settings table: one place that checks every training setting for fit and the command line."""

import pytest

import xsq
from xsq.cli.main import build_parser
from xsq.training.settings import SETTINGS, resolve


def test_defaults_fill_per_optimizer():
    s = resolve()
    assert (s.optimizer, s.epochs, s.restarts, s.lr, s.grad) == ("lm", 1300, 4, None, None)
    s = resolve(optimizer="adam")
    assert (s.epochs, s.lr, s.grad, s.restarts) == (10000, 0.01, "autograd", 0)
    assert resolve(hidden=16.0, epochs=5.0).hidden == (16,) and resolve(epochs=5.0).epochs == 5


def test_every_setting_is_an_option_of_xsq_train():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    helps = {a.dest: a.help for a in train._actions}
    assert set(SETTINGS) - {"scale"} <= set(helps)
    assert "lm 1300" in helps["epochs"] and "adam 10000" in helps["epochs"] and "sgd 3000" in helps["epochs"]
    assert "adam 0.01" in helps["lr"] and "for sgd, momentum, adam only" in helps["lr"]
    assert "(default: 4; 3 with bayes)" in helps["restarts"] and "for lm only" in helps["restarts"]


@pytest.mark.parametrize("hidden", [(), [], 0, (16, 0)])
def test_a_network_has_a_hidden_layer(hidden):
    with pytest.raises(xsq.InputError, match="hidden must be one or more whole numbers >= 1"):
        resolve(hidden=hidden)


def test_unknown_setting():
    with pytest.raises(xsq.InputError, match="unknown setting 'hiden'"):
        resolve(hiden=3)


def test_the_python_signatures_show_the_tables_defaults():
    import inspect

    from xsq.sklearn import XsqRegressor

    for function, seed in ((xsq.fit, "seed"), (XsqRegressor.__init__, "random_state")):
        shown = {name: p.default for name, p in inspect.signature(function).parameters.items()}
        shown["seed"] = shown.pop(seed)
        if function is not xsq.fit:  # the estimator is for measured data: Bayesian regularisation by default
            assert shown.pop("regularization") == "auto"
            shown["regularization"] = SETTINGS["regularization"].default
        assert {name: shown[name] for name in SETTINGS} == {name: s.default for name, s in SETTINGS.items()}


def test_true_or_false_is_read_from_text_and_numpy():
    import numpy as np

    from xsq.errors import InputError
    from xsq.validation import Flag

    assert Flag().parse("False", "scale") is False and Flag().parse(" true ", "scale") is True
    assert Flag().check(np.True_, "scale") is True and Flag().check(np.False_, "scale") is False
    for text in ("yes", "1", "", "Falsey"):
        with pytest.raises(InputError, match="scale must be True or False"):
            Flag().parse(text, "scale")
