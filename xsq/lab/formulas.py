"""The question's formulas as written, as activations a forward pass can be handed (the core never names them).

The question computes ``1 / (1 + exp(-z))`` and ``log(1 + exp(z))`` as
written, and takes their slopes as autograd's ``elementwise_grad`` makes
them; both overflow (the first for z < -709, the second for z > 709.8), and
that is the NaN ``xsq diagnose`` explains. No setting accepts them: the sweep's
``question`` cells pass these objects to the forward pass themselves. Written with ``autograd.numpy``, so
autograd differentiates them as the question's code would be differentiated.
"""

from __future__ import annotations

import autograd.numpy as anp

from ..core.activations import ACTIVATIONS, Activation


def naive_sigmoid(z):
    """1 / (1 + exp(-z)) exactly as written (overflows for z < -709)."""
    return 1 / (1 + anp.exp(-z))


def naive_softplus(z):
    """log(1 + exp(z)) exactly as written (overflows for z > 709.78)."""
    return anp.log(1 + anp.exp(z))


def naive_sigmoid_grad(z):
    """What autograd's elementwise_grad makes of naive_sigmoid: exp(-z) / (1 + exp(-z))^2."""
    e = anp.exp(-z)
    return (1 / (1 + e) ** 2) * e


def naive_softplus_grad(z):
    """What autograd's elementwise_grad makes of naive_softplus: exp(z) * (1 / (1 + exp(z)))."""
    e = anp.exp(z)
    return e * (1 / (1 + e))


QUESTION_SIGMOID = Activation(
    "question's sigmoid",
    naive_sigmoid,
    naive_sigmoid_grad,
    lambda z: (naive_sigmoid(z), naive_sigmoid_grad(z)),
    lambda z: naive_sigmoid_grad(z) * (1 - 2 * naive_sigmoid(z)),
    produces=ACTIVATIONS["sigmoid"].produces,
)
QUESTION_SOFTPLUS = Activation(
    "question's softplus",
    naive_softplus,
    naive_softplus_grad,
    lambda z: (naive_softplus(z), naive_softplus_grad(z)),
    naive_sigmoid_grad,
    produces=ACTIVATIONS["softplus"].produces,
)
