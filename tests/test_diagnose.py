"""The diagnosis: every field, consistent with each other, computed from the measurements."""

import math

import pytest

from xsq.errors import TrainingStalled
from xsq.lab import diagnose as d
from xsq.lab.diagnose_text import format_report
from xsq.training import train

FIELDS = {
    "first_nonfinite_step": (int, type(None)),
    "first_nonfinite_op": (str, type(None)),
    "update_matches_autograd_single": bool,
    "update_rel_diff_single": float,
    "update_matches_autograd_batch": bool,
    "update_rel_diff_batch": (float, type(None)),
    "max_target": float,
    "output_range_sigmoid": float,
    "output_range_softplus": float,
    "grad_norm_raw": float,
    "grad_norm_scaled": float,
    "max_stable_lr_raw": (float, type(None)),
    "max_stable_lr_scaled": (float, type(None)),
    "best_rmse_over_range_h1": float,
    "best_rmse_over_range_h16": float,
    "fixed_rmse_over_range": float,
    "fixed_seconds": float,
    "verdict": list,
}


def short_fit(X, Y, **settings):
    """xsq's fit cut short; the fit on raw data stalls, as it may, and keeps its model."""
    model = train.fit_whole(X, Y, **{"epochs": 60, **settings})
    if settings.get("scale") is False:
        raise TrainingStalled("training did not learn", model.record, model.params, model)
    return model


@pytest.fixture(scope="module")
def short():
    # the structure and consistency of the report, with xsq's fits cut short (their accuracy is tested elsewhere)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(d, "fit_whole", short_fit)
        return d.diagnose(steps=100)


def test_every_field_with_its_type(short):
    assert set(short) == set(d.Diagnosis.__annotations__)
    for key, kind in FIELDS.items():
        assert isinstance(short[key], kind), (key, short[key])
    assert all(isinstance(v, str) and v for v in short["verdict"])
    assert len(short["what_to_change"]) == len(short["change_effects"]) == len(short["change_notes"])


def test_fields_agree_with_each_other(short):
    step = short["first_nonfinite_step"]
    assert step is None or 0 <= step < short["steps"]
    assert (step is None) == (short["first_nonfinite_op"] is None)
    assert short["max_target"] == 100.0**2 and short["output_range_sigmoid"] <= 1.0
    assert 709 < short["output_range_softplus"] < 710  # log(1 + exp(z)) overflows past z = 709.78
    assert short["grad_norm_raw"] > 1000 * short["grad_norm_scaled"] > 0
    assert short["max_stable_lr_raw"] < short["max_stable_lr_scaled"]
    assert short["predicted_stable_lr_raw"] == pytest.approx(2 / short["lam_max_raw"])
    assert short["update_matches_autograd_single"] and short["update_rel_diff_single"] <= 1e-12
    assert math.isfinite(short["rmse_over_range_without_scaling"])  # a stalled fit is measured by what it kept
    assert not short["update_matches_autograd_batch"]
    finite = [e for e in short["change_effects"] if e is not None]
    assert finite == sorted(finite, reverse=True)
    report = format_report(short)
    assert all(text in report for text in short["verdict"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps must be a whole number >= 1"):
        d.diagnose(steps=0)
