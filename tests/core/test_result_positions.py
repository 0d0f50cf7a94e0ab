"""Scans of selected residues keep their chain positions (``ScanResult.positions``) in every table and in the
dict form that JSON files and viewer sessions restore; the rows equal those of a whole scan."""
from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from saprot_scan import read_structure, scan_chain, scan_residues
from saprot_scan.backends.structure import STRUCTURE_SCORER_NAME
from saprot_scan.errors import InputError
from saprot_scan.outputs.tables import csv_text, summary_csv_text
from saprot_scan.results import ScanResult


@pytest.fixture(scope="module")
def lysozyme(example_structure):
    (chain,) = read_structure(example_structure)
    return chain


def test_selected_rows_are_the_whole_scans_rows(lysozyme):
    whole = scan_chain(lysozyme, STRUCTURE_SCORER_NAME, use_cache=False)
    part = scan_residues(lysozyme, [99, 39, 40, 41, 40], STRUCTURE_SCORER_NAME, use_cache=False)
    assert part.positions == (40, 41, 42, 100) and len(part) == 4
    assert [r.label for r in part.residue_ids] == ["40", "41", "42", "100"]
    np.testing.assert_array_equal(part.scores, whole.scores[[39, 40, 41, 99]])
    assert part.wt == "".join(lysozyme.sequence[i] for i in (39, 40, 41, 99))
    rows = list(csv.DictReader(io.StringIO(csv_text([part]))))
    assert sorted({int(r["position"]) for r in rows}) == [40, 41, 42, 100]
    assert all(r["mutant"] == f"{r['wt']}{r['position']}{r['mt']}" for r in rows)
    summary = list(csv.DictReader(io.StringIO(summary_csv_text([part]))))
    assert [int(r["position"]) for r in summary] == [40, 41, 42, 100]


def test_positions_survive_the_dict_form(lysozyme):
    part = scan_residues(lysozyme, [0, 5, 128], STRUCTURE_SCORER_NAME, use_cache=False)
    again = ScanResult.from_dict(part.to_dict(rounded=False))
    assert again.positions == (1, 6, 129)
    np.testing.assert_array_equal(again.scores, part.scores)
    whole = scan_chain(lysozyme, STRUCTURE_SCORER_NAME, use_cache=False)
    assert ScanResult.from_dict(whole.to_dict()).positions == ()  # a whole chain stores no positions


def test_indices_outside_the_chain_are_refused(lysozyme):
    with pytest.raises(InputError, match="0..128"):
        scan_residues(lysozyme, [129], STRUCTURE_SCORER_NAME)


def test_csv_labels_add_a_column_per_result_after_the_contract_columns():
    from saprot_scan.outputs.tables import CSV_COLUMNS, PERCENTILE_COLUMNS
    from saprot_scan.results import ResidueId

    def result(wt):
        return ScanResult("A", tuple(ResidueId("A", i + 1, "") for i in range(len(wt))), wt,
                          np.zeros((len(wt), 20)), "wt", "m")

    text = csv_text([result("AC"), result("G")], labels={"object": ["one", "two"]})
    rows = [line.split(",") for line in text.splitlines()]
    assert rows[0] == [*CSV_COLUMNS, *PERCENTILE_COLUMNS, "object"]
    assert [r[-1] for r in rows[1:]] == ["one"] * 38 + ["two"] * 19
    with pytest.raises(ValueError, match="object"):
        csv_text([result("AC")], labels={"object": ["one", "two"]})
