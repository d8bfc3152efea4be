"""Will a training run fit in memory? An estimate made before any large array is allocated.

The estimate counts the arrays that dominate: the forward pass over the
training set (a few N x width arrays per layer), and for Levenberg-Marquardt
the Jacobian (N * n_out x P, plus a weighted copy and the per-layer
products that build it) and the P x P normal equations. Wide inputs make
P large (n_in x width weights in the first layer alone), so both grow with them. A run estimated
above ``SHARE`` of the memory available now is refused with the estimate.
"""

from __future__ import annotations

import os

from ..core.params import count
from ..errors import InputError

SHARE = 0.8
FLOAT = 8


def available_bytes() -> int | None:
    """Memory available to a new allocation now (Linux's MemAvailable), or None when unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def training_bytes(
    n: int, sizes: tuple[int, ...], optimizer: str, batch_size: int | None = None, regularization: str = "none"
) -> int:
    """Estimated peak bytes of training a network of ``sizes`` on ``n`` samples.

    With regularization (:mod:`xsq.bayes_policy`) the Jacobian gains P rows (the prior's), kept beside the
    data's N x P one, and each evidence update holds a few more P x P matrices (A, its factor and inverse).
    """
    P = count(sizes)
    rows = n if batch_size is None else min(n, batch_size)
    forward = 4 * rows * sum(sizes) * FLOAT + 2 * n * (sizes[0] + sizes[-1]) * FLOAT
    if optimizer != "lm":
        return forward + 6 * P * FLOAT
    widest = max(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    jacobian = 3 * n * sizes[-1] * P * FLOAT + n * sizes[-1] * widest * FLOAT
    regularized = (n * sizes[-1] * P + 3 * P * P + 4 * P * P) * FLOAT if regularization != "none" else 0
    return forward + jacobian + 4 * P * P * FLOAT + regularized


def check_memory(
    n: int, sizes: tuple[int, ...], optimizer: str, batch_size: int | None = None, regularization: str = "none"
) -> int:
    """Refuse (:class:`InputError`) a run estimated not to fit in memory; return the estimate in bytes."""
    need = training_bytes(n, sizes, optimizer, batch_size, regularization)
    have = available_bytes()
    if have is not None and need > SHARE * have:
        tip = " or optimizer adam (LM holds an N x P Jacobian and a P x P matrix)" if optimizer == "lm" else ""
        raise InputError(
            f"this run needs about {need / 2**30:.3g} GiB of memory ({n} samples, sizes "
            f"{'-'.join(map(str, sizes))}, {optimizer}), more than the {have / 2**30:.3g} GiB available; "
            f"use fewer samples or hidden units{tip}"
        )
    return need
