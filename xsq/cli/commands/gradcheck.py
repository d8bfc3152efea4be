"""``xsq gradcheck``: hand-written derivatives against autograd and central differences, per parameter array.

``--order 1`` checks the gradient (:mod:`xsq.checks.gradient_check`); ``--order 2`` checks
Hessian-vector products and the Gauss-Newton matrix (:mod:`xsq.checks.hessian_check`).
"""

from __future__ import annotations

import itertools

from ...checks.gradient_check import format_table, gradcheck, passed, random_problem, rows_as_dicts
from ...checks.hessian_check import gauss_newton_check, hvp_check
from ...core import activations, losses
from ...core.params import count
from ...errors import InputError
from ...files import json_bytes
from ...training.resources import check_memory
from . import NETWORK

MAX_WORK = 5e11  # rough operations: at about 1e9 a second, several minutes
ACTIVATION_COST = 50  # one activation costs about this many multiply-adds
LAYER_COST = 10_000  # and each layer of a pass about this many, whatever its size (Python's own work)
MAX_SECOND_ORDER_PARAMS = 4000  # order 2 forms P x P matrices (and large ones have crashed OpenBLAS)


def check_size(sizes: tuple[int, ...], n: int, order: int, combinations: int) -> None:
    """Refuse (:class:`InputError`) a check that would take far too long or not fit in memory. Order 1
    evaluates the loss 2 P times (central differences); order 2 builds autograd's n x P Jacobian with n
    reverse passes, and J^T J. A pass over n samples costs about n (P + ACTIVATION_COST * hidden units), plus
    LAYER_COST a layer."""
    P = count(sizes)
    if order == 2 and P > MAX_SECOND_ORDER_PARAMS:
        raise InputError(
            f"--order 2 forms {P} x {P} matrices; it checks networks of at most {MAX_SECOND_ORDER_PARAMS} parameters"
        )
    one_pass = n * (P + ACTIVATION_COST * sum(sizes[1:-1])) + LAYER_COST * (len(sizes) - 1)
    work = combinations * (2 * P * one_pass if order == 1 else n * one_pass + n * P * P)
    if work > MAX_WORK:
        raise InputError(
            f"checking {P} parameters on {n} samples ({combinations} combination(s), order {order}) would take "
            f"too long (about {work:.1e} operations, more than {MAX_WORK:.0e}); use fewer hidden units or samples"
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
    chosen = {name: getattr(args, name) for name in NETWORK if getattr(args, name) is not None}
    if args.all:
        if chosen:
            raise InputError(f"--all checks every combination; {', '.join('--' + n for n in chosen)} does not apply")
        combos = list(itertools.product(activations.ACTIVATIONS, activations.ACTIVATIONS, losses.LOSSES))
    else:
        combos = [tuple(chosen.get(name, default) for name, default in NETWORK.items())]
    check_size(args.sizes, args.n, args.order, len(combos))
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
