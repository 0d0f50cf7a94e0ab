"""The time estimate's arithmetic (issue 25, item 3): the shipped growth curve that matches a calibration is
picked and scaled to it, a missing or provisional file falls back to fitting the timings, masked scans cost
one row per residue over their windows. No wall-clock assertions: the timings here are made up."""
from __future__ import annotations

import json

import pytest

from saprot_scan.estimate import (CostModel, duration_text, fit_cost, growth_curves, scaled_growth, scan_seconds)

CURVES = {"small": (20.0, 0.08, 0.0011), "large": (240.0, 4.6, 0.0056)}


def _runs(curve, batch=4, factor=1.0):
    c0, c1, c2 = curve
    return {t: factor * batch * (c0 + c1 * t + c2 * t * t) / 1000.0 for t in (34, 130, 386)}


@pytest.mark.parametrize("shape", ["small", "large"])
def test_the_matching_growth_curve_is_scaled_to_this_machine(shape):
    timings = _runs(CURVES[shape], factor=2.5)  # a machine 2.5x slower than the one measured
    coefficients, growth = scaled_growth(timings, 4, CURVES)
    assert shape in growth
    model = CostModel(*coefficients, 4)
    for tokens, seconds in timings.items():
        assert model.run_seconds(tokens) == pytest.approx(seconds)


def test_without_a_measured_file_the_timings_are_fitted(tmp_path):
    provisional = tmp_path / "cost_growth.json"
    provisional.write_text(json.dumps({"format": 1, "status": "provisional", "shapes": {"x": {"row_ms": [1, 2, 3]}}}))
    assert growth_curves(provisional) == {} and growth_curves(tmp_path / "missing.json") == {}
    assert scaled_growth({34: 1.0, 130: 2.0}, 4, {}) == (None, "")
    fixed, linear, quadratic = fit_cost([34, 130, 386], [0.1 + 0.002 * t + 1e-5 * t * t for t in (34, 130, 386)])
    assert (fixed, linear, quadratic) == pytest.approx((0.1, 0.002, 1e-5), rel=1e-6)
    assert min(fit_cost([34, 130, 386], [1.0, 0.5, 2.0])) >= 0  # never a negative term


def test_packaged_growth_file_is_measured_for_both_saprot_sizes():
    assert {"35m", "650m"} <= set(growth_curves())


def test_masked_scan_cost_follows_rows_and_windows():
    model = CostModel(0.0, 0.001, 0.0, 4)  # 1 ms per token per run of 4
    assert scan_seconds(model, 100, "masked") == pytest.approx(100 / 4 * 0.102)
    assert scan_seconds(model, 100, "masked", rows=10) == pytest.approx(10 / 4 * 0.102)
    assert scan_seconds(model, 100, "wt") == pytest.approx(0.102 / 4)
    # beyond 1,022 residues every row runs over a full window: cost grows linearly with the chain
    assert scan_seconds(model, 4000, "masked") / scan_seconds(model, 2000, "masked") == pytest.approx(2.0, rel=0.01)


def test_durations_read_as_a_person_says_them():
    assert [duration_text(s) for s in (0.2, 40, 89, 200, 3000, 7200)] == ["1 s", "40 s", "89 s", "3 min", "50 min",
                                                                           "2.0 h"]
