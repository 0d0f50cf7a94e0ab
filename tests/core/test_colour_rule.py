"""Issue 13, item 4: one robust colour rule (``saprot_scan.viewers.colour_scale``) for PyMOL, ChimeraX and the
heatmap: the limit is the 95th percentile of |value| (one outlier does not wash the rest out), symmetric for
signed summaries, one-sided for ``min``; values beyond the limit clip to the end colours."""
from __future__ import annotations

import math

import numpy as np
import pytest

from saprot_scan import viewers
from saprot_scan.viewers import ColourScale, colour_for, colour_limit, colour_scale, hex_rgb

LOW, MID, HIGH = (hex_rgb(viewers.INTOLERANT_HEX), hex_rgb(viewers.CENTRE_HEX), hex_rgb(viewers.TOLERATED_HEX))


def distance(a, b) -> float:
    return math.dist(a, b)


def same(a, b) -> bool:
    return distance(a, b) < 1e-9


def test_limit_is_a_rounded_percentile_not_the_largest_value():
    assert colour_limit([]) == 1.0 and colour_limit([float("nan"), None]) == 1.0
    assert colour_limit([0.01, -0.02]) == 0.5  # at least half a unit
    values = [-2.3, 0.4, float("nan"), 1.1]
    assert colour_limit(values) == 2.5  # np.percentile(|v|, 95) = 2.18 -> rounded up to a half unit
    assert colour_limit([-1.0] * 99 + [-40.0]) == 1.0  # one value in a hundred is ignored


def test_one_outlier_no_longer_washes_the_structure_out():
    rng = np.random.default_rng(1)
    values = list(rng.uniform(-3.0, 0.5, 120)) + [-25.0]  # one residue far below every other
    scale = colour_scale(values, "mean")
    assert scale.stops() == (-3.0, 0.0, 3.0)
    old_rule = max(abs(v) for v in values)  # the former limit: the largest |value|
    typical = -2.0
    now, before = colour_for(typical, scale), colour_for(typical, old_rule)
    # before: close to white (pale pink); now: two thirds of the way to the red end
    assert distance(before, MID) < 0.25 * distance(LOW, MID)
    assert distance(now, MID) == pytest.approx(2 / 3 * distance(LOW, MID))
    assert same(colour_for(-25.0, scale), LOW)  # the outlier clips to the end colour
    assert same(colour_for(99.0, scale), HIGH)
    assert colour_for(0.0, scale) == MID and colour_for(float("nan"), scale) == viewers.UNSCORED_RGB


def test_min_summary_uses_the_whole_palette():
    values = [-0.1, -0.6, -1.2, -2.0, -2.9, -3.4, -0.05]
    scale = colour_scale(values, "min")
    assert scale == ColourScale(-3.5, -1.75, 0.0) and scale.one_sided
    assert same(colour_for(-3.5, scale), LOW) and same(colour_for(0.0, scale), HIGH)
    assert same(colour_for(-1.75, scale), MID)
    assert same(colour_for(0.4, scale), HIGH) and same(colour_for(-9.0, scale), LOW)  # clipped
    # the symmetric rule would have painted all of them red..white: nothing tolerated
    symmetric = colour_scale(values, "mean")
    assert not symmetric.one_sided and symmetric.stops() == (-3.5, 0.0, 3.5)
    assert all(colour_for(v, symmetric)[0] >= colour_for(v, symmetric)[2] for v in values)
    assert any(colour_for(v, scale)[2] > colour_for(v, scale)[0] for v in values)


@pytest.mark.parametrize("summary", ["mean", "max", "A", "substitution"])
def test_signed_summaries_are_symmetric_around_white_zero(summary):
    scale = colour_scale([-4.2, 1.0, 2.0], summary)
    assert scale.centre == 0.0 and scale.low == -scale.high
    assert colour_for(0.0, scale) == MID


def test_plddt_masked_positions_come_from_the_struct_string():
    from saprot_scan.encoding.structure import ResidueId
    from saprot_scan.results import ScanResult

    ids = tuple(ResidueId("A", i + 1, "") for i in range(4))
    result = ScanResult("A", ids, "ACDE", np.zeros((4, 20)), "masked", "m", struct="d#v#")
    assert viewers.plddt_masked(result) == [False, True, False, True]
    result.struct = ""
    assert viewers.plddt_masked(result) == [False] * 4
