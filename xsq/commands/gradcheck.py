"""``xsq gradcheck``: hand-written gradients against autograd and central differences, per parameter."""

from __future__ import annotations

import itertools
import json

from .. import activations, losses
from ..gradcheck import format_table, gradcheck, passed, random_problem, rows_as_dicts


def run(args) -> int:
    if args.all:
        combos = list(itertools.product(activations.ACTIVATIONS, activations.ACTIVATIONS, losses.LOSSES))
    else:
        combos = [(args.activation, args.output, args.loss)]
    results = []
    for activation, output, loss in combos:
        params, X, Y = random_problem(args.sizes, activation, args.n, args.seed)
        rows = gradcheck(params, X, Y, activation=activation, output=output, loss=loss)
        results.append(
            (
                dict(
                    activation=activation,
                    output=output,
                    loss=loss,
                    sizes=list(args.sizes),
                    n=args.n,
                    seed=args.seed,
                    passed=passed(rows),
                    params=rows_as_dicts(rows),
                ),
                rows,
            )
        )
    if args.json:
        print(json.dumps([r for r, _ in results], indent=1))
    else:
        for r, rows in results:
            print(
                f"\nactivation={r['activation']} output={r['output']} loss={r['loss']} "
                f"sizes={','.join(map(str, r['sizes']))} n={r['n']} seed={r['seed']}"
            )
            print(format_table(rows))
        n_bad = sum(not r["passed"] for r, _ in results)
        print(f"\n{len(results) - n_bad} of {len(results)} combinations passed")
    return 0 if all(r["passed"] for r, _ in results) else 1
