"""A stopped scan's partial result is marked in every file the core writes (issue 25): CSV column ``scanned``,
JSON ``partial`` / ``scanned`` (kept through a save and restore), the heatmap header."""
from __future__ import annotations

import csv
import json
import re

import numpy as np

from saprot_scan import ResidueId, ScanResult
from saprot_scan.outputs.heatmap import save_heatmap
from saprot_scan.outputs.tables import write_csv, write_json


def _partial() -> ScanResult:
    rng = np.random.default_rng(1)
    scores = rng.normal(size=(6, 20))
    scanned = (True, True, False, True, False, False)
    scores[[not flag for flag in scanned]] = np.nan
    return ScanResult(chain_id="A", residue_ids=tuple(ResidueId("A", n, "") for n in range(1, 7)), wt="ACDEFG",
                      scores=scores, method="masked", model_name="m", scanned=scanned)


def test_partial_result_is_marked_in_csv_json_and_heatmap(tmp_path):
    result = _partial()
    assert result.partial and result.scanned_count == 3
    assert "partial: 3 of 6 residues scored" in result.describe()
    write_csv([result], tmp_path / "p.csv")
    rows = list(csv.DictReader(open(tmp_path / "p.csv", newline="")))
    assert len(rows) == 6 * 19 and [r["scanned"] for r in rows[::19]] == ["yes", "yes", "no", "yes", "no", "no"]
    assert all(r["score"] == "" and r["percentile"] == "" for r in rows if r["scanned"] == "no")
    write_json([result], tmp_path / "p.json")
    saved = json.loads((tmp_path / "p.json").read_text())["chains"][0]
    assert saved["partial"] is True and saved["scanned_residues"] == 3
    assert [r["scanned"] for r in saved["residues"]] == list(result.scanned)
    restored = ScanResult.from_dict(saved)
    assert restored.partial and restored.scanned == result.scanned
    save_heatmap([result], tmp_path / "p.svg")
    header = " ".join(re.findall(r"<!-- (.*?) -->", (tmp_path / "p.svg").read_text()))  # wrapped title lines
    assert "PARTIAL: 3 of 6 residues scored" in header


def test_complete_result_has_no_partial_marks(tmp_path):
    result = _partial()
    whole = ScanResult(chain_id="A", residue_ids=result.residue_ids, wt=result.wt,
                       scores=np.nan_to_num(result.scores), method="masked", model_name="m")
    assert not whole.partial and "partial" not in whole.to_dict()
    write_csv([whole], tmp_path / "w.csv")
    assert "scanned" not in (tmp_path / "w.csv").read_text().splitlines()[0]
