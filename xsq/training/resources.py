"""Will a training run fit in memory? An estimate made before any large array is allocated.

The estimate counts the arrays that dominate: the forward pass over the
training set (a few N x width arrays per layer), and for Levenberg-Marquardt
the Jacobian (N * n_out x P, plus a weighted copy and the per-layer
products that build it) and the P x P normal equations. Wide inputs make
P large (n_in x width weights in the first layer alone), so both grow with them. A run estimated
above ``xsq.memory.SHARE`` of the memory available now (to the machine, and under the
process's own limit) is refused with the estimate.
"""

from __future__ import annotations

from .. import memory
from ..core.params import count

FLOAT = 8
# seconds per unit of work, measured on a laptop-class CPU (1-16-1 up to 1-2000-1, 1e3 to 1e5 samples):
# a pass over a sample costs about PER_WEIGHT per parameter (LM's Jacobian row included); LM's normal
# equations run at about FLOPS; each optimizer step costs about PER_STEP of Python's own work.
PER_WEIGHT = 1.5e-7
FLOPS = 4e9
PER_STEP = 2e-3


def training_bytes(
    n: int, sizes: tuple[int, ...], optimizer: str, batch_size: int | None = None, regularization: str = "none"
) -> int:
    """Estimated peak bytes of training a network of ``sizes`` on ``n`` samples.

    With regularization (:mod:`xsq.training.bayes_policy`) the Jacobian gains P rows (the prior's), kept beside the
    data's N x P one, and each evidence update holds a few more P x P matrices (A, its factor and inverse), or,
    where A is too badly conditioned for its factor, an SVD of the N x P Jacobian (about two more of its size).
    """
    P = count(sizes)
    rows = n if batch_size is None else min(n, batch_size)
    forward = 4 * rows * sum(sizes) * FLOAT + 2 * n * (sizes[0] + sizes[-1]) * FLOAT
    if optimizer != "lm":
        return forward + 6 * P * FLOAT
    widest = max(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    jacobian = 3 * n * sizes[-1] * P * FLOAT + n * sizes[-1] * widest * FLOAT
    regularized = (3 * n * sizes[-1] * P + 3 * P * P + 4 * P * P) * FLOAT if regularization != "none" else 0
    return forward + jacobian + 4 * P * P * FLOAT + regularized


def check_memory(
    n: int, sizes: tuple[int, ...], optimizer: str, batch_size: int | None = None, regularization: str = "none"
) -> int:
    """Refuse (:class:`InputError`) a run estimated not to fit in memory; return the estimate in bytes."""
    need = training_bytes(n, sizes, optimizer, batch_size, regularization)
    tip = " or optimizer adam (LM holds an N x P Jacobian and a P x P matrix)" if optimizer == "lm" else ""
    what = f"this run ({n} samples, sizes {'-'.join(map(str, sizes))}, {optimizer})"
    memory.check_fits(need, what, f"use fewer samples or hidden units{tip}")
    return need


def epoch_seconds(n: int, sizes: tuple[int, ...], optimizer: str, batch_size: int | None = None) -> float:
    """A rough estimate of the seconds one epoch of training takes on ``n`` samples (to warn before a long
    run; within a factor of a few of what is measured)."""
    P = count(sizes)
    if optimizer == "lm":
        return PER_WEIGHT * n * P + (n * P * P + P**3) / FLOPS
    steps = -(-n // (batch_size or n))
    return PER_WEIGHT * n * P + PER_STEP * steps
