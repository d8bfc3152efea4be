"""Hand-written backprop of a 1-16-1 network (sigmoid hidden, softplus output), as functions of (params, X, Y).

xsq's loss is mean((A2 - Y)^2) over every element. Each function below is one learner's attempt.
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softplus(z):
    return np.log1p(np.exp(z))


def forward(params, X):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = sigmoid(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = softplus(Z2)
    return Z1, A1, Z2, A2


def right(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dA2 = 2 * (A2 - Y) / Y.size
    dZ2 = dA2 * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def half_squared_error(params, X, Y):
    # the gradient of 1/2 sum (A2 - Y)^2: a convention, not a bug
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = (A2 - Y) * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"dW1": X.T @ dZ1, "db1": np.sum(dZ1, axis=0), "dW2": A1.T @ dZ2, "db2": np.sum(dZ2, axis=0)}


def no_output_slope(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def slope_of_output(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * sigmoid(A1) * (1 - sigmoid(A1))
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def tanh_slope(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * (1 - np.tanh(Z1) ** 2)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def z_for_a(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": Z1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def ascent(params, X, Y):
    g = right(params, X, Y)
    return {k: -v for k, v in g.items()}


def bias_rows(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return {"W1": X.T @ dZ1, "b1": dZ1, "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def bias_total(params, X, Y):
    g = right(params, X, Y)
    g["b1"] = g["b1"].sum()
    return g


def forgot_b2(params, X, Y):
    g = right(params, X, Y)
    del g["b2"]
    return g


def overflow(params, X, Y):
    g = right(params, X, Y)
    g["W2"] = g["W2"] * np.exp(1000.0)
    return g


def typo(params, X, Y):
    g = right(params, X, Y)
    g["W1"][0, 3] += 0.5
    return g


def twice_w2(params, X, Y):
    g = right(params, X, Y)
    g["W2"] = 2 * g["W2"]
    return g


def undefined_name(params, X, Y):
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = (A2 - Y) * sigmoid(Z2)
    return {"W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0), "W1": X.T @ dZ1}  # noqa: F821


def per_sample(params, X, Y):
    # one sample at a time, summed: the gradient of 1/2 sum (A2 - Y)^2
    g = {k: np.zeros_like(v) for k, v in params.items()}
    for x, y in zip(X, Y):
        print("sample", x)
        x, y = x[None, :], y[None, :]
        Z1, A1, Z2, A2 = forward(params, x)
        dZ2 = (A2 - y) * sigmoid(Z2)
        dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
        g["W1"] += x.T @ dZ1
        g["b1"] += dZ1[0]
        g["W2"] += A1.T @ dZ2
        g["b2"] += dZ2[0]
    return g


def per_sample_rows(params, X, Y):
    # one sample at a time, the biases' rows kept instead of added
    g = {"W1": 0.0, "W2": 0.0}
    rows1, rows2 = [], []
    for x, y in zip(X, Y):
        x, y = x[None, :], y[None, :]
        Z1, A1, Z2, A2 = forward(params, x)
        dZ2 = (A2 - y) * sigmoid(Z2) * 2 / len(X)
        dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
        g["W1"] = g["W1"] + x.T @ dZ1
        g["W2"] = g["W2"] + A1.T @ dZ2
        rows1.append(dZ1[0])
        rows2.append(dZ2[0])
    return dict(g, b1=np.array(rows1), b2=np.array(rows2))


HALF: float = 1.0
HALF /= 2


def halved_by_a_constant(params, X, Y):
    return {k: HALF * v for k, v in right(params, X, Y).items()}


def singular(params, X, Y):
    g = right(params, X, Y)
    g["W2"] = np.linalg.inv(np.zeros((2, 2)))
    return g


def slope_by_difference(params, X, Y):
    # the hidden slope by a forward difference: close, but not the derivative
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * (sigmoid(Z1 + 1e-4) - A1) / 1e-4
    return {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}


def zero_b1(params, X, Y):
    g = right(params, X, Y)
    g["b1"] = np.zeros_like(g["b1"])
    return g


def chatty(params, X, Y):
    print("computing the gradient...")
    return right(params, X, Y)


def bias_mean(params, X, Y):
    # the weights summed over the samples, the biases averaged: returned as a tuple, in params order
    Z1, A1, Z2, A2 = forward(params, X)
    dZ2 = 2 * (A2 - Y) / Y.size * sigmoid(Z2)
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    return X.T @ dZ1, dZ1.mean(axis=0), A1.T @ dZ2, dZ2.mean(axis=0)


def lower_case_keys(params, X, Y):
    return {k.lower(): v for k, v in right(params, X, Y).items()}


print("training...")
for step in range(10**9):
    pass
show_the_plots()  # noqa: F821
