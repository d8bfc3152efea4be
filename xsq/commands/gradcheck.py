"""``xsq gradcheck``: hand-written derivatives against autograd and central differences, per parameter array.

``--order 1`` checks the gradient (:mod:`xsq.gradient_check`); ``--order 2`` checks
Hessian-vector products and the Gauss-Newton matrix (:mod:`xsq.hessian_check`).
"""

from __future__ import annotations

import itertools

from .. import activations, losses
from ..errors import InputError
from ..files import json_bytes
from ..gradient_check import format_table, gradcheck, passed, random_problem, rows_as_dicts
from ..hessian_check import gauss_newton_check, hvp_check
from ..resources import check_memory

MAX_WORK = 1e11  # P**2 * n: central differences take 2 P losses, each about n * P operations


def check_size(sizes, n: int, order: int) -> None:
    """Refuse (:class:`InputError`) a check that would take hours or not fit in memory."""
    P = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    if P * P * n > MAX_WORK:
        raise InputError(
            f"checking {P} parameters on {n} samples by central differences is too much work (2 x {P} losses); "
            f"use fewer hidden units or samples (P**2 * n up to {MAX_WORK:.0e})"
        )
    check_memory(n, tuple(sizes), "lm" if order == 2 else "adam")


LABELS = {1: ("autograd", "fin.diff", "max |g|"), 2: ("rev-over-rev", "diff of grad", "max |Hv|")}


def check(order: int, sizes, activation: str, output: str, loss: str, n: int, seed: int) -> list:
    """The rows of one combination's check."""
    params, X, Y = random_problem(sizes, activation, n, seed)
    if order == 1:
        return gradcheck(params, X, Y, activation=activation, output=output, loss=loss)
    return [
        *hvp_check(params, X, Y, activation=activation, output=output, loss=loss, seed=seed),
        gauss_newton_check(params, X, activation=activation, output=output),
    ]


def run(args) -> int:
    """Run ``xsq gradcheck`` with parsed ``args``; return the exit status (1 on any mismatch)."""
    if args.all:
        combos = list(itertools.product(activations.ACTIVATIONS, activations.ACTIVATIONS, losses.LOSSES))
    else:
        combos = [(args.activation, args.output, args.loss)]
    check_size(args.sizes, args.n, args.order)
    results = []
    for activation, output, loss in combos:
        rows = check(args.order, args.sizes, activation, output, loss, args.n, args.seed)
        info = dict(activation=activation, output=output, loss=loss, sizes=list(args.sizes), n=args.n)
        results.append(
            (dict(info, seed=args.seed, order=args.order, passed=passed(rows), params=rows_as_dicts(rows)), rows)
        )
    if args.json:
        print(json_bytes([r for r, _ in results]).decode(), end="")
    else:
        for r, rows in results:
            print(
                f"\nactivation={r['activation']} output={r['output']} loss={r['loss']} "
                f"sizes={','.join(map(str, r['sizes']))} n={r['n']} seed={r['seed']} order={r['order']}"
            )
            print(format_table(rows, *LABELS[args.order]))
        n_bad = sum(not r["passed"] for r, _ in results)
        print(f"\n{len(results) - n_bad} of {len(results)} combinations passed")
    return 0 if all(r["passed"] for r, _ in results) else 1
