"""Backprop written as a loop over the layers, for a deeper network with several outputs (tanh hidden units,
identity output): sizes 2, 6, 5, 3."""

import numpy as np


def passes(params, X):
    k = len(params) // 2
    Zs, As = [None], [X]
    for i in range(1, k + 1):
        Z = As[-1] @ params[f"W{i}"] + params[f"b{i}"]
        Zs.append(Z)
        As.append(np.tanh(Z) if i < k else Z)
    return k, Zs, As


def right(params, X, Y):
    k, Zs, As = passes(params, X)
    dA = 2 * (As[-1] - Y) / Y.size
    g = {}
    for i in range(k, 0, -1):
        dZ = dA * (1 - np.tanh(Zs[i]) ** 2) if i < k else dA
        g[f"W{i}"] = As[i - 1].T @ dZ
        g[f"b{i}"] = dZ.sum(axis=0)
        dA = dZ @ params[f"W{i}"].T
    return g


def sum_over_outputs(params, X, Y):
    # mean over samples, sum over the 3 outputs
    k, Zs, As = passes(params, X)
    dA = 2 * (As[-1] - Y) / len(Y)
    g = {}
    for i in range(k, 0, -1):
        dZ = dA * (1 - np.tanh(Zs[i]) ** 2) if i < k else dA
        g[f"W{i}"] = As[i - 1].T @ dZ
        g[f"b{i}"] = dZ.sum(axis=0)
        dA = dZ @ params[f"W{i}"].T
    return g


def slope_of_output_everywhere(params, X, Y):
    k, Zs, As = passes(params, X)
    dA = 2 * (As[-1] - Y) / Y.size
    g = {}
    for i in range(k, 0, -1):
        dZ = dA * (1 - np.tanh(As[i]) ** 2) if i < k else dA
        g[f"W{i}"] = As[i - 1].T @ dZ
        g[f"b{i}"] = dZ.sum(axis=0)
        dA = dZ @ params[f"W{i}"].T
    return g


def transposed(params, X, Y):
    g = right(params, X, Y)
    g["W1"] = g["W1"].T  # (6, 2) for (2, 6)
    g["W2"] = g["W2"].T  # (5, 6) for (6, 5)
    return g


def square_transposed(params, X, Y):
    # sizes 2, 4, 4, 3: W2 is square, so only its numbers tell
    g = right(params, X, Y)
    g["W2"] = g["W2"].T
    return g
