"""xsq: a small neural network that learns f(x) = x^2, with gradients you can check.

Parameters are a plain dict of numpy arrays; every function here is pure.
"""

from . import losses
from .activations import ACTIVATIONS, DERIVATIVES, identity, relu, sigmoid, softplus, tanh
from .backprop import (
    autograd_grad,
    autograd_jacobian,
    flatten,
    jacobian,
    manual_grad,
    objective,
    param_keys,
    unflatten,
)
from .gradcheck import gradcheck
from .model import Model, load_model
from .network import init_params, predict
from .train import TrainingDiverged, fit

__all__ = [
    "ACTIVATIONS", "DERIVATIVES", "autograd_grad", "autograd_jacobian", "flatten", "gradcheck",
    "identity", "init_params", "jacobian", "losses", "manual_grad", "objective", "param_keys",
    "predict", "relu", "sigmoid", "softplus", "tanh", "unflatten", "Model", "load_model", "fit",
    "TrainingDiverged",
]
