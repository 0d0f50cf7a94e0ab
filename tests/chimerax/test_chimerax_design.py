"""Issue 14 item 5 in a real headless ChimeraX 1.7.1: ``saprot design`` keeps the core's P(native) as the float
residue attribute ``saprot_native``, colours by how well the native amino acid fits, logs recovery and the most
likely sequence, and refuses the structure scorer in the core's one line. Runs under .venv-chimerax
(``make test-chimerax``); each test is its own process."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)


def test_design_attribute_and_colours_match_the_core(chimerax):
    out = chimerax("""
import numpy as np
from saprot_scan import chain_tokens, design_chain, load_model, read_structure
from saprot_scan.viewers import colour_for, colour_limit, native_fit
run(session, "open " + params["1aki"])
log.clear()
run(session, "saprot design #1 model " + params["model"])
chain = read_structure(params["1aki"], chains=["A"])[0]
want = design_chain(chain, load_model(params["model"], device="cpu"), chain_tokens(chain))
s = session.models[0]
by_number = {(int(r.number), str(r.insertion_code or "").strip()): r for r in s.residues if r.chain_id == "A"}
got = [getattr(by_number[(rid.number, rid.icode)], "saprot_native", None) for rid in want.residue_ids]
out["got"] = [float(v) for v in got]
out["want"] = [float(v) for v in want.p_native]
fits = native_fit(want.p_native)
limit = colour_limit(fits)
out["colour_diffs"] = max(
    int(np.max(np.abs(np.array(by_number[(rid.number, rid.icode)].ribbon_color, dtype=int)[:3]
                      - np.round(np.array(colour_for(f, limit)) * 255).astype(int))))
    for rid, f in zip(want.residue_ids, fits))
out["html"] = log.html()
out["recovery"] = f"{100 * want.recovery:.1f}%"
out["designed"] = want.designed
run(session, "select ::saprot_native>0.5")
out["selectable"] = True
""")
    assert len(out["got"]) == len(out["want"]) > 50
    assert out["got"] == pytest.approx(out["want"], abs=1e-9)
    assert out["colour_diffs"] <= 1
    html = out["html"]
    assert "SaProt design" in html and out["recovery"] in html and out["designed"] in html
    assert "far better designs than the embedded default" in html
    assert out["selectable"]


def test_design_refuses_the_structure_scorer_in_one_line(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
before = [tuple(r.ribbon_color) for r in session.models[0].residues]
out["error"] = user_error("saprot design #1 model burial-blosum")
out["unchanged"] = before == [tuple(r.ribbon_color) for r in session.models[0].residues]
out["has_attr"] = any(hasattr(r, "saprot_native") and r.saprot_native is not None for r in session.models[0].residues)
""")
    error = out["error"]
    assert "\n" not in error.strip() and "design needs a SaProt-format language model" in error
    assert "cannot propose a sequence" in error and error.startswith("saprot design:")
    assert out["unchanged"] and not out["has_attr"]
