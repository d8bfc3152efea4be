"""``xsq predict``: a saved model's predictions (and slopes) for numbers given on the command line."""

from __future__ import annotations

import sys

import numpy as onp

from ...errors import InputError
from ...files import json_bytes
from ...training.model import load_model


def run(args) -> int:
    """Run ``xsq predict`` with parsed ``args``; return the exit status."""
    model = load_model(args.model)
    if model.sizes[0] != 1 or model.sizes[-1] != 1:
        raise InputError(
            f"model {args.model!r} maps {model.sizes[0]} inputs to {model.sizes[-1]} outputs; "
            "this command feeds it one number at a time and prints one prediction"
        )
    x = onp.array(args.x, dtype=float)
    with onp.errstate(all="ignore"):
        pred = model.predict(x)[:, 0]
        slope = model.derivative(x)[:, 0, 0] if args.derivative else None
    bad = ~onp.isfinite(pred) | (~onp.isfinite(slope) if slope is not None else False)
    if onp.any(bad):
        what = "slope" if onp.isfinite(pred[bad][0]) else "prediction"
        raise InputError(
            f"the model cannot evaluate x = {x[bad][0]:g} in float64 (its {what} there is not a finite number); "
            "give inputs nearer the domain it was trained on"
        )
    domain = model.record.domain[0] if model.record is not None and model.record.domain else None
    outside = (x < domain[0]) | (x > domain[1]) if domain else onp.zeros(len(x), bool)
    if onp.any(outside):
        shown = ", ".join(f"{v:g}" for v in x[outside][:5]) + (", ..." if outside.sum() > 5 else "")
        print(
            f"note: {int(outside.sum())} of {len(x)} inputs ({shown}) lie outside [{domain[0]:g}, {domain[1]:g}], "
            "the domain the model was trained on: those predictions are extrapolation",
            file=sys.stderr,
        )
    if args.json:
        out = {
            "x": x.tolist(),
            "prediction": pred.tolist(),
            "extrapolation": outside.tolist(),
            "domain": list(domain) if domain else None,
        }
        if slope is not None:
            out["derivative"] = slope.tolist()
        print(json_bytes(out, indent=None).decode(), end="")
    else:
        for i, (xi, pi) in enumerate(zip(x, pred)):
            print(f"{xi:.17g} {pi:.17g}" + (f" {slope[i]:.17g}" if slope is not None else ""))
    return 0
