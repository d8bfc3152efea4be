"""xsq: small neural networks that learn f(x) = x^2 (and more), with gradients you can check.

Parameters are a plain dict of numpy arrays; the loss is a pure function of
``(params, X, Y)``; ``autograd.grad`` gives every parameter's gradient in one
call, and hand-written backprop beside it is checked against autograd and
central differences. Start reading at :mod:`xsq.core.net`: the forward pass,
the loss, ``grad`` and the backprop on one screen.

The layers, each importing only those below it::

    cli        the xsq command: commands, argument parsing, reports, plots, run folders, signals
    lab        the question's network, xsq diagnose, xsq sweep
    checks     gradients and Hessians held against autograd and central differences
    training   fit: settings, scaling, optimizers, Levenberg-Marquardt, the loop, stages, the Model
    data       targets and domains, CSV data, error metrics
    core       the network math: activations, losses, params, forward, objective, gradients
    (base)     errors, validation, files, memory

The names are loaded on first use (``lazy_loader``, from the stub ``__init__.pyi``
beside this file, which editors and type checkers read): the ``xsq`` command
installs its Ctrl-C handling before anything heavy is imported.
"""

import lazy_loader

__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
