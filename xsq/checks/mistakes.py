"""What each known backprop mistake would give: the hand-written backward pass with mistakes put in.

:func:`mistaken_grad` is :func:`xsq.core.net.backprop`'s loop (``dZ = dA * act'(Z)``, ``dW = A_prev.T @ dZ``,
``db = sum(dZ)``, ``dA_prev = dZ @ W.T``) with a :class:`Mistake` at one layer, or at several. A mistake at layer i
changes that layer's gradients and, through dA_prev, every layer below it; the layers above are right.
:func:`mistakes` lists every mistake worth trying for a network. The kinds:

* ``missing_derivative``: the slope act'(Z) left out (dZ = dA);
* ``derivative_of_output``: the slope taken at the activation's output, act'(A) = act'(act(Z));
* ``wrong_derivative``: another activation's slope, act2'(Z);
* ``wrong_input``: dW built from the wrong values, Z_{i-1} instead of A_{i-1} (or X instead of A_{i-1}).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..core.activations import ACTIVATIONS
from ..core.net import Act, Passes, backprop, layer_activation
from ..core.params import Params, n_layers

Kind = Literal["missing_derivative", "derivative_of_output", "wrong_derivative", "wrong_input"]  # see above


@dataclass(frozen=True)
class Mistake:
    """One mistake: its kind, the layer (1-based) it is made at, and which variant (an activation's name for
    ``wrong_derivative``, the values used for ``wrong_input``: ``"Z"`` or ``"X"``)."""

    kind: Kind
    layer: int
    detail: str = ""


Mistakes = tuple[Mistake, ...]  # each at its own layer: what one learner's backward pass gets wrong


def responsible(made: Mistakes, i: int) -> Mistake:
    """The mistake to name for layer i's arrays: the one made at layer i, else the nearest one above it (a
    mistake changes every gradient below it)."""
    return min((m for m in made if m.layer >= i), key=lambda m: m.layer)


def _slopes(i: int, own: str) -> list[Mistake]:
    """The slope mistakes that can be made at layer i, whose activation is ``own``."""
    out = [] if own == "identity" else [Mistake("missing_derivative", i)]
    if own not in ("identity", "relu"):  # relu'(relu(z)) and 1 are relu'(z) and identity'(z)
        out.append(Mistake("derivative_of_output", i))
    return out + [Mistake("wrong_derivative", i, name) for name in ACTIVATIONS if name not in (own, "identity")]


def mistakes(params: Params, activation: Act, output: Act) -> list[Mistakes]:
    """Every mistake worth trying, alone first; then one slope mistake made at every layer from i down (as a
    loop over the layers makes it); then two mistakes at two layers (the two slopes swapped, say)."""
    k = n_layers(params)
    at = {i: _slopes(i, layer_activation(i, k, activation, output).name) for i in range(k, 0, -1)}
    every = []
    for i in range(k, 1, -1):
        for m in at[i]:
            below = tuple(Mistake(m.kind, j, m.detail) for j in range(i - 1, 0, -1))
            below = tuple(b for b in below if b in at[b.layer])
            if below:
                every.append((m, *below))
        at[i].append(Mistake("wrong_input", i, "Z"))
        if params["W1"].shape[0] == params[f"W{i}"].shape[0]:
            at[i].append(Mistake("wrong_input", i, "X"))
    singles = [(m,) for i in at for m in at[i]]
    pairs = [(a, b) for i in at for j in at if j < i for a in at[i] for b in at[j]]
    return singles + every + pairs


def mistaken_grad(
    params: Params, passes: Passes, dA: np.ndarray, activation: Act, output: Act, made: Mistakes
) -> Params:
    """The gradient hand-written backprop gives with the mistakes ``made``; ``dA`` is d loss / d output (N, nk).

    :func:`xsq.core.net.backprop` itself, given the slope or the layer input each mistake puts in place of the
    right one: with no mistake it is the right gradient.
    """
    k = n_layers(params)
    Zs, As, Ds = passes
    slopes, inputs = list(Ds), list(As)  # backprop reads Ds[i] as layer i's slope and As[i - 1] as its input
    with np.errstate(all="ignore"):
        for mistake in made:
            i = mistake.layer
            act = layer_activation(i, k, activation, output)
            if mistake.kind == "missing_derivative":
                slopes[i] = np.ones_like(Ds[i])
            elif mistake.kind == "derivative_of_output":
                slopes[i] = np.asarray(act.deriv(As[i]))
            elif mistake.kind == "wrong_derivative":
                slopes[i] = np.asarray(ACTIVATIONS[mistake.detail].deriv(Zs[i]))
            elif mistake.kind == "wrong_input":
                inputs[i - 1] = Zs[i - 1] if mistake.detail == "Z" else As[0]
            else:
                raise ValueError(f"unknown mistake {mistake.kind!r}")
        return backprop(params, Passes(list(Zs), inputs, slopes), dA)


def describe(mistake: Mistake, activation: Act, output: Act, k: int) -> str:
    """What to change, in one sentence, for ``mistake`` in a network of ``k`` layers."""
    i, own = mistake.layer, layer_activation(mistake.layer, k, activation, output).name
    at = f"at layer {i}"
    if mistake.kind == "missing_derivative":
        return f"the slope is left out {at}: use dZ{i} = dA{i} * {own}'(Z{i})"
    if mistake.kind == "derivative_of_output":
        return f"the slope is taken at the activation's output {at}: use {own}'(Z{i}), not {own}'(A{i})"
    if mistake.kind == "wrong_derivative":
        return f"the slope of {mistake.detail} is used {at}, where the activation is {own}: use {own}'(Z{i})"
    used = f"Z{i - 1}" if mistake.detail == "Z" else "X"
    return f"dW{i} is built from {used}: use A{i - 1}.T @ dZ{i}, the activations that layer {i} multiplies"
