"""A model of one's own: a quadratic a x^2 + b x + c, its squared-error loss, and hand-written gradients."""

import math

import autograd.numpy as np


def predict(params, X):
    return params["a"] * X[:, 0] ** 2 + params["b"] * X[:, 0] + params["c"]


def loss(params, X, Y):
    return np.mean((predict(params, X) - Y) ** 2)


def example():
    X = np.linspace(-1.0, 2.0, 6)[:, None]
    Y = 3 * X[:, 0] ** 2 - X[:, 0] + 0.5
    return {"a": np.array(1.0), "b": np.array([0.3]), "c": np.array(-0.2)}, X, Y


def right(params, X, Y):
    r = 2 * (predict(params, X) - Y) / len(Y)
    return {"a": np.sum(r * X[:, 0] ** 2), "b": np.array([np.sum(r * X[:, 0])]), "c": np.sum(r)}


def half(params, X, Y):
    r = predict(params, X) - Y
    return {"a": np.sum(r * X[:, 0] ** 2), "b": np.sum(r * X[:, 0]), "c": np.sum(r)}


def per_row(params, X, Y):
    r = 2 * (predict(params, X) - Y) / len(Y)
    return {"a": np.sum(r * X[:, 0] ** 2), "b": r * X[:, 0], "c": -np.sum(r)}


def untraceable_loss(params, X, Y):
    # math.exp cannot be traced by autograd: the reference falls back to central differences
    return sum((float(p) - math.exp(0.0)) ** 2 for p in (params["a"], params["b"][0], params["c"]))


def untraceable_right(params, X, Y):
    return {k: 2 * (v - 1.0) for k, v in params.items()}


def nan_loss(params, X, Y):
    return loss(params, X, Y) * np.nan


def nan_example():
    params, X, Y = example()
    return dict(params, b=np.array([np.nan])), X, Y


def nan_valued_loss(params, X, Y):
    return loss(params, X, Y) + np.nan


def inf_beside(params, X, Y):  # finite at the example (a = 1) only
    return float(loss(params, X, Y)) + (0.0 if float(params["a"]) == 1.0 else math.inf)


def nan_x_example():
    params, X, Y = example()
    return params, np.where(X > 1.5, np.inf, X), Y
