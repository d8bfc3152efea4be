"""What each known backprop mistake would give: the hand-written backward pass with one mistake put in.

:func:`mistaken_grad` is :func:`xsq.backprop`'s loop (``dZ = dA * act'(Z)``, ``dW = A_prev.T @ dZ``,
``db = sum(dZ)``, ``dA_prev = dZ @ W.T``) with one :class:`Mistake` at one layer. A mistake at layer i
changes that layer's gradients and, through dA_prev, every layer below it; the layers above are right.
:func:`mistakes` lists every mistake worth trying for a network. The kinds:

* ``missing_derivative``: the slope act'(Z) left out (dZ = dA);
* ``derivative_of_output``: the slope taken at the activation's output, act'(A) = act'(act(Z));
* ``wrong_derivative``: another activation's slope, act2'(Z);
* ``wrong_input``: dW built from the wrong values, Z_{i-1} instead of A_{i-1} (or X instead of A_{i-1}).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as onp

from ..activations import ACTIVATIONS
from ..formulas import FORMULAS
from ..network import Passes
from ..params import Params, n_layers

Array = onp.ndarray


@dataclass(frozen=True)
class Mistake:
    """One mistake: its kind, the layer (1-based) it is made at, and which variant (an activation's name for
    ``wrong_derivative``, the values used for ``wrong_input``: ``"Z"`` or ``"X"``)."""

    kind: str
    layer: int
    detail: str = ""
    every: bool = False  # made at every hidden layer below ``layer`` as well

    def made_at(self, i: int) -> bool:
        """Whether the mistake is made at layer i."""
        return i == self.layer or (self.every and i < self.layer)

    def layer_for(self, i: int) -> int:
        """The layer to name for layer i's arrays: i itself when the mistake is made there, else the layer above
        where it is made (a mistake changes every gradient below it)."""
        return i if self.made_at(i) else self.layer


def mistakes(params: Params, activation: str, output: str) -> list[Mistake]:
    """Every mistake that gives something other than the right gradient, layer by layer from the output."""
    k = n_layers(params)
    out = []
    for i in range(k, 0, -1):
        own = activation if i < k else output
        if own != "identity":
            out.append(Mistake("missing_derivative", i))
        if own not in ("identity", "relu"):  # relu'(relu(z)) and 1 are relu'(z) and identity'(z)
            out.append(Mistake("derivative_of_output", i))
        out += [Mistake("wrong_derivative", i, name) for name in ACTIVATIONS if name not in (own, "identity")]
        if i > 1:  # the same slope mistake at every layer from i down, as a loop over layers makes it
            out += [Mistake(m.kind, i, m.detail, True) for m in out if m.layer == i and m.kind != "wrong_input"]
            out.append(Mistake("wrong_input", i, "Z"))
            if params["W1"].shape[0] == params[f"W{i}"].shape[0]:
                out.append(Mistake("wrong_input", i, "X"))
    return out


def mistaken_grad(params: Params, passes: Passes, dA: Array, activation: str, output: str, mistake: Mistake) -> Params:
    """The gradient hand-written backprop gives with ``mistake`` made; ``dA`` is d loss / d output (N, nk)."""
    k = n_layers(params)
    Zs, As, Ds = passes
    grads = {}
    with onp.errstate(all="ignore"):
        for i in range(k, 0, -1):
            slope, inputs = Ds[i], As[i - 1]
            if mistake.made_at(i):
                act = FORMULAS[activation if i < k else output]
                if mistake.kind == "missing_derivative":
                    slope = onp.ones_like(Ds[i])
                elif mistake.kind == "derivative_of_output":
                    slope = onp.asarray(act.deriv(As[i]))
                elif mistake.kind == "wrong_derivative":
                    slope = onp.asarray(ACTIVATIONS[mistake.detail].deriv(Zs[i]))
                elif mistake.kind == "wrong_input":
                    inputs = Zs[i - 1] if mistake.detail == "Z" else As[0]
            dZ = dA * slope
            grads[f"W{i}"] = inputs.T @ dZ
            grads[f"b{i}"] = dZ.sum(axis=0)
            dA = dZ @ params[f"W{i}"].T
    return {key: grads[key] for key in params}


def describe(mistake: Mistake, activation: str, output: str, k: int) -> str:
    """What to change, in one sentence, for ``mistake`` in a network of ``k`` layers."""
    i, own = mistake.layer, activation if mistake.layer < k else output
    at = f"at every layer from {i} down" if mistake.every else f"at layer {i}"
    if mistake.kind == "missing_derivative":
        return f"the slope is left out {at}: use dZ{i} = dA{i} * {own}'(Z{i})"
    if mistake.kind == "derivative_of_output":
        return f"the slope is taken at the activation's output {at}: use {own}'(Z{i}), not {own}'(A{i})"
    if mistake.kind == "wrong_derivative":
        return f"the slope of {mistake.detail} is used {at}, where the activation is {own}: use {own}'(Z{i})"
    used = f"Z{i - 1}" if mistake.detail == "Z" else "X"
    return f"dW{i} is built from {used}: use A{i - 1}.T @ dZ{i}, the activations that layer {i} multiplies"
