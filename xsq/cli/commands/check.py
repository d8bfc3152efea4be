"""``xsq check FILE.py``: the learner's own backprop, run on one sample and on a batch, each array named.

Three forms: ``--function NAME`` (``NAME(params, X, Y)`` returns the gradients of an xsq-shaped network),
``--object EXPR`` (an object in the question's style that updates its weights in place), and
``--function NAME --objective LOSS --example EX`` (any model). Exit status 0 for ok or consistent, 1 for
wrong, 2 for bad input.
"""

from __future__ import annotations

from collections.abc import Callable

from ...errors import InputError
from ...files import json_bytes
from . import NETWORK


def run(args) -> int:
    """Run ``xsq check`` with parsed ``args``; return the exit status."""
    from ...checks.backprop_check import check_backprop
    from ...checks.forms import function_form, network_of, object_form
    from ...checks.learner_file import load

    if (args.function is None) == (args.object is None):
        raise InputError("give exactly one of --function NAME and --object EXPR")
    if (args.objective is None) != (args.example is None) or (args.objective and args.function is None):
        raise InputError("a model of your own needs --function, --objective and --example together")
    file = load(args.file)
    network = {name: getattr(args, name) or default for name, default in NETWORK.items()}
    settings = dict(network, batch=args.batch, seed=args.seed)
    gradient: Callable
    if args.object is not None:
        gradient, sizes = object_form(file, args.object, args.forward, args.update, args.lr_attribute, args.lr)
        if args.sizes is not None and len(args.sizes) != len(sizes):
            raise InputError(f"--sizes gives {len(args.sizes) - 1} layers but {args.object} has {len(sizes) - 1}")
        given = (network["activation"], network["output"])
        found = network_of(gradient, args.sizes or sizes, args.seed, args.batch, given)
        if found is not None and found != given:  # checked against another network, right code would be "wrong"
            raise InputError(
                f"{args.object}.{args.forward} computes {found[0]} hidden units and output {found[1]}, not "
                f"{given[0]} and {given[1]}: give --activation {found[0]} --output {found[1]}"
            )
        absent = f"was not changed by {args.update}"
        report = check_backprop(gradient, sizes=args.sizes or sizes, source=file.path, absent=absent, **settings)
    else:
        gradient = function_form(file, args.function)
        if args.objective is not None:
            objective, example = file.function(args.objective), file.function(args.example)
            report = check_backprop(gradient, batch=args.batch, objective=objective, example=example, source=file.path)
        else:
            report = check_backprop(gradient, sizes=args.sizes or (1, 16, 1), source=file.path, **settings)
    print(json_bytes(report.as_dict()).decode() if args.json else text(report), end="")
    return 1 if report.overall == "wrong" else 0


def text(report) -> str:
    """The report as a learner reads it: per check, a table of parameter, shape, verdict, largest relative
    difference from the gradient, and what to change."""
    lines = []
    for check in report.checks:
        what = "one sample" if check.batch == 1 else f"a batch of {check.batch}"
        lines.append(f"With {what}: {check.overall}")
        if check.raised is not None:
            r = check.raised
            lines.append(f"  your code raised {r.type}{f' at line {r.line}' if r.line else ''}: {r.message}")
        lines.append(f"  {'param':<6} {'shape':<10} {'verdict':<20} {'rel diff':>9}  what to change")
        for v in check.params.values():
            diff = "-" if v.rel_diff is None else f"{v.rel_diff:.2e}"
            shape = "-" if v.shape is None else str(tuple(v.shape))
            lines.append(f"  {v.name:<6} {shape:<10} {v.verdict:<20} {diff:>9}  {v.message}")
        lines.append("")
    lines.append(f"Overall: {report.overall}")
    return "\n".join(lines) + "\n"
