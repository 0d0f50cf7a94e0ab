"""Issue 24, items 4, 5 and 9 in a real headless ChimeraX 1.7.1: a chain of a complex is scored with its partner
chains as context (structure scorers) and its interface gets the selector ``saprot_interface``; ``saprot suggest
avoid`` measures side chains across chains like the core; without offscreen rendering ``saprot suggest`` still
logs its table (labels skipped, no LimitationError). Runs under .venv-chimerax (``make test-chimerax``)."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)


def test_partner_context_and_interface_selector(chimerax):
    out = chimerax("""
import numpy as np
from saprot_scan import read_structure, scan_chain
from saprot_scan.backends.base import load_scorer
run(session, "open " + params["1f2n"])
log.clear()
run(session, "saprot scan #1/A model burial-blosum")
out["log"] = log.text() + log.html()
on = read_structure(params["1f2n"], chains=["A"], partners=True)[0]
off = read_structure(params["1f2n"], chains=["A"], partners=False)[0]
scorer = load_scorer("burial-blosum")
want = scan_chain(on, scorer, use_cache=False).summary("mean")
alone = scan_chain(off, scorer, use_cache=False).summary("mean")
chain = [r for r in session.models[0].residues if r.chain_id == "A"]
got = {f"{r.number}{r.insertion_code}": getattr(r, "saprot_score", None) for r in chain}
values = np.array([np.nan if got.get(rid.label) is None else got[rid.label] for rid in on.residue_ids])
out["diff"] = float(np.nanmax(np.abs(values - want)))
out["alone_diff"] = float(np.nanmax(np.abs(values - alone)))
run(session, "select saprot_interface")
out["selected"] = sorted(f"{r.number}{r.insertion_code}" for r in session.selection.items("atoms")[0].unique_residues)
out["want"] = sorted(rid.label for rid, flag in zip(on.residue_ids, on.interface) if flag)
out["attribute"] = sorted(f"{r.number}{r.insertion_code}" for r in chain if getattr(r, "saprot_interface", None))
log.clear()
run(session, "saprot scan #1/A model burial-blosum partners false")
out["off_log"] = log.text() + log.html()
got = {f"{r.number}{r.insertion_code}": getattr(r, "saprot_score", None) for r in chain}
values = np.array([np.nan if got.get(rid.label) is None else got[rid.label] for rid in on.residue_ids])
out["off_diff"] = float(np.nanmax(np.abs(values - alone)))
run(session, "select saprot_interface")
out["off_selected"] = sorted(f"{r.number}{r.insertion_code}" for r in session.selection.items("atoms")[0].unique_residues)
""")
    assert out["diff"] < 1e-6 and out["alone_diff"] > 0.1
    assert out["off_diff"] < 1e-6 and out["off_selected"] == out["want"]
    assert "partner context off" in out["off_log"] and "partner context on" not in out["off_log"]
    assert out["want"] and out["selected"] == out["want"] == out["attribute"]
    assert f"{len(out['want'])} residues touch another chain" in out["log"] and "SaProt reads one chain" in out["log"]


def test_suggest_avoids_by_side_chains_and_logs_without_offscreen(chimerax):
    out = chimerax("""
from saprot_scan import near_residues, read_structure, scan_chain, suggest_singles, load_model
run(session, "open " + params["1f2n"])
run(session, "saprot scan #1/A model " + params["model"])
log.clear()
session.main_view._render = None  # as ChimeraX --nogui without --offscreen: no renderer, no 3D labels
got = run(session, "saprot suggest avoid #1/B radius 6 top 8")
out["log"] = log.text() + log.html()
chains = read_structure(params["1f2n"], partners=True)
a = chains[0]
avoid = {rid for c in chains if c.chain_id == "B" for rid in c.residue_ids}
excluded = near_residues(a, avoid, chains, 6.0)
result = scan_chain(a, model=load_model(params["model"], device="cpu"), use_cache=False)
want = suggest_singles([result], {"A": excluded}, top=8)
out["got"] = [[m, round(v, 6)] for _, m, v in got]
out["want"] = [[s.author, round(s.score, 6)] for s in want]
""", offscreen=False)
    assert out["got"] and out["got"] == out["want"]
    assert "SaProt suggestions" in out["log"] and "Traceback" not in out["log"]
    assert "residues not labelled (Unable to draw 3D labels" in out["log"]


def test_suggest_ranks_each_structure_on_its_own(chimerax):
    """Issue 24, item 9: two unrelated proteins are never mixed in one ranking."""
    out = chimerax("""
run(session, "open " + params["1aki"])
run(session, "open " + params["1l2y"])
run(session, "saprot scan #1 model " + params["model"])
run(session, "saprot scan #2.1 model " + params["model"])  # one model of the NMR ensemble
log.clear()
got = run(session, "saprot suggest top 3")
out["got"] = [c for c, _, _ in got]
out["html"] = log.html()
""", offscreen=True)
    structures = [label.split("/")[0] for label in out["got"]]
    assert structures == sorted(structures) and set(structures) == {"#1", "#2.1"}
    assert all(structures.count(s) <= 3 for s in set(structures))
    assert out["html"].count("SaProt suggestions</b> for #") == 2
