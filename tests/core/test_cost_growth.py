"""The packaged cost-growth model (issue 25): readable, matched to shapes, and a masked scan's cost follows
its windows (one row per residue, rows no longer than a window)."""
import json

import pytest

from saprot_scan.scoring.cost_growth import (COST_FILE, load_cost_growth, masked_scan_ms, masked_scan_rows,
                                             nearest_shape)


def test_packaged_file_has_both_saprot_shapes():
    costs = load_cost_growth()
    assert {"35m", "650m"} <= set(costs)
    for cost in costs.values():
        assert cost.row_time(1024) > cost.row_time(102) > 0
        assert cost.relative(302, 302) == pytest.approx(1.0)


def test_models_match_the_nearest_shape():
    assert nearest_shape(12, 480).shape == "35m"
    assert nearest_shape(33, 1280).shape == "650m"
    assert nearest_shape(66, 1280).shape == "650m"  # 1.3B: the closer of the two
    assert nearest_shape(2, 64).shape == "35m"       # the small embedded default


def test_masked_scan_rows_follow_the_windows():
    assert masked_scan_rows(300) == [(300, 302)]
    rows = masked_scan_rows(3000)
    assert sum(r for r, _ in rows) == 3000 and all(t == 1024 for _, t in rows)


def test_scan_cost_grows_faster_than_length_then_linearly(tmp_path):
    cost = load_cost_growth()["35m"]
    assert masked_scan_ms(cost, 800) / masked_scan_ms(cost, 400) > 2.0
    beyond = masked_scan_ms(cost, 4000) / masked_scan_ms(cost, 2000)
    assert beyond == pytest.approx(2.0, rel=0.05)


def test_unknown_format_is_refused(tmp_path):
    data = json.loads(COST_FILE.read_text())
    data["format"] = 99
    path = tmp_path / "cost.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="format 99"):
        load_cost_growth(path)
