"""xsq: small neural networks that learn f(x) = x^2 (and more), with gradients you can check.

Parameters are a plain dict of numpy arrays; the loss is a pure function of
``(params, X, Y)``; ``autograd.grad`` gives every parameter's gradient in one
call, and hand-written backprop beside it is checked against autograd and
central differences. The names below are imported on first use, so that
``import xsq`` (and the ``xsq`` command's start) stays quick.
"""

from __future__ import annotations

import importlib

_HOMES = {
    "activations": ("ACTIVATIONS", "sigmoid", "tanh", "softplus", "relu", "identity"),
    "params": ("init_params", "flatten", "unflatten", "param_keys"),
    "network": ("predict",),
    "backprop": ("objective", "autograd_grad", "manual_grad", "jacobian", "autograd_jacobian"),
    "forward_mode": ("input_jacobian",),
    "gradient_check": ("gradcheck",),
    "checks.backprop_check": ("check_backprop",),
    "model": ("Model", "load_model"),
    "scaling": ("Scaler",),
    "train": ("fit",),
    "errors": ("InputError", "TrainingFailed", "TrainingDiverged", "TrainingStalled"),
}
_MODULES = ("losses",)
_WHERE = {name: module for module, names in _HOMES.items() for name in names}

__all__ = sorted(_WHERE) + list(_MODULES)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'xsq' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
