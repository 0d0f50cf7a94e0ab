"""Issue 26 in real headless PyMOL: ``saprot_known`` puts the known variants of the test-built files beside the
scores: the core's agreement in the log, selections saprot_known_pathogenic / saprot_known_benign /
saprot_am_pathogenic on the right residues, the known columns in saprot_csv."""
from __future__ import annotations

import csv

import pytest

from test_pymol_plugin import cmd, pm, structure  # noqa: F401

from support.known_files import OFFSET, build_files


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return build_files(tmp_path_factory.mktemp("pymol-known"))


def _residues(name: str) -> set[str]:
    found: list[str] = []
    cmd.iterate(f"{name} and name CA", "found.append(resi)", space={"found": found})
    return set(found)


def test_pymol_known_variants_agreement_selections_and_csv(pm, test_data, files, tmp_path, capfd):
    from saprot_scan import read_structure, scan_chain
    from saprot_scan.known import align_known, attach, combine, read_known

    json_path, am_path, variants = files
    path = structure(test_data, "1aki")
    cmd.load(path)
    cmd.do("saprot_scan 1aki, model=burial-blosum")
    capfd.readouterr()
    cmd.do(f"saprot_known {json_path} {am_path}")
    out = capfd.readouterr().out
    chain = read_structure(path)[0]
    known = combine([read_known(json_path), read_known(am_path)])
    expected = attach(scan_chain(chain, "burial-blosum"), known, align_known(chain, known))
    assert expected.known["agreement"]["line"] in out and "ROC AUC" in out and "Spearman" in out
    assert "identity 100.0%, coverage 100.0%" in out
    sick = {str(p - OFFSET) for p, _, _, s in variants if p > OFFSET and "pathogenic" in s.lower()}
    fine = {str(p - OFFSET) for p, _, _, s in variants if p > OFFSET and "benign" in s.lower()}
    assert _residues("saprot_known_pathogenic") == sick and _residues("saprot_known_benign") == fine
    assert _residues("saprot_am_pathogenic") == {v["residue"] for v in expected.known["variants"]
                                                 if v["am_class"] == "LPath"}
    cmd.do(f"saprot_csv {tmp_path / 'known.csv'}")
    with open(tmp_path / "known.csv") as handle:
        rows = {row["mutant"]: row for row in csv.DictReader(handle)}
    position, wt, mt, significance = next(v for v in variants if v[0] > OFFSET)
    assert rows[f"{wt}{position - OFFSET}{mt}"]["clinical_significance"] == significance


def test_pymol_known_bad_file_is_one_line(pm, test_data, tmp_path, capfd):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    cmd.load(structure(test_data, "1aki"))
    cmd.do("saprot_scan 1aki, model=burial-blosum")
    capfd.readouterr()
    cmd.do(f"saprot_known {bad}")
    out = capfd.readouterr().out
    assert "not a known-variants file" in out and "Traceback" not in out
    assert "saprot_known_pathogenic" not in cmd.get_names("selections")
