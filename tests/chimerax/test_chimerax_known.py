"""Issue 26 in a real headless ChimeraX 1.7.1: ``saprot known`` puts the test-built variation JSON and
AlphaMissense CSV of lysozyme (P00698) beside a scan of 1AKI: the core's agreement line in the log, residue
attributes and selectors ``saprot_known_pathogenic`` / ``saprot_known_benign`` / ``saprot_am_pathogenic`` on the
right residues. Runs under .venv-chimerax (``make test-chimerax``); each test is its own process."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)
from support.known_files import OFFSET, build_files  # noqa: E402


def test_known_variants_agreement_attributes_and_selectors(chimerax, tmp_path):
    json_path, am_path, variants = build_files(tmp_path)
    out = chimerax("""
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 model burial-blosum")
log.clear()
got = run(session, "saprot known " + params["json"] + " " + params["am"])
out["agreement"] = got["#1/A"]["line"]
out["html"] = log.html()
def residues(name):
    run(session, "select " + name)
    return sorted(str(r.number) for r in session.selection.items("atoms")[0].unique_residues)
out["pathogenic"] = residues("saprot_known_pathogenic")
out["benign"] = residues("saprot_known_benign")
out["am"] = residues("saprot_am_pathogenic")
s = session.models[0]
out["attr"] = {str(r.number): [r.saprot_known_pathogenic, r.saprot_am_pathogenicity] for r in s.residues
               if getattr(r, "saprot_known_pathogenic", None) is not None}
from saprot_scan import read_structure, scan_chain
from saprot_scan.known import align_known, attach, combine, read_known
chain = read_structure(params["1aki"])[0]
known = combine([read_known(params["json"]), read_known(params["am"])])
want = attach(scan_chain(chain, "burial-blosum", use_cache=False), known, align_known(chain, known))
out["want_line"] = want.known["agreement"]["line"]
out["want_am"] = sorted({v["residue"] for v in want.known["variants"] if v["am_class"] == "LPath"}, key=int)
""", json=str(json_path), am=str(am_path))
    assert out["agreement"] == out["want_line"] and "ROC AUC" in out["agreement"] and "Spearman" in out["agreement"]
    assert "ROC AUC" in out["html"] and "identity 100.0%" in out["html"]
    sick = sorted({str(p - OFFSET) for p, _, _, s in variants if p > OFFSET and "pathogenic" in s.lower()}, key=int)
    fine = sorted({str(p - OFFSET) for p, _, _, s in variants if p > OFFSET and "benign" in s.lower()}, key=int)
    assert sorted(out["pathogenic"], key=int) == sick and sorted(out["benign"], key=int) == fine
    assert sorted(out["am"], key=int) == out["want_am"]
    assert all(out["attr"][label][0] >= 1 for label in sick) and len(out["attr"]) == 129


def test_known_without_a_scan_or_with_a_bad_file_is_one_line(chimerax, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    out = chimerax("""
run(session, "open " + params["1aki"])
out["no_scan"] = user_error("saprot known " + params["bad"])
run(session, "saprot scan #1 model burial-blosum")
out["bad"] = user_error("saprot known " + params["bad"])
""", bad=str(bad))
    assert "run saprot scan first" in out["no_scan"]
    assert "not a known-variants file" in out["bad"] and "\n" not in out["bad"].strip()
