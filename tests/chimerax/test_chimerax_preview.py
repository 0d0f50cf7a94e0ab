"""Issue 25 (3, 4) in a real headless ChimeraX 1.7.1: ``saprot scan`` says how long it will take, colours the
chain with the one-pass wild-type preview before the masked scan finishes, refines as residues finish and
ends on today's colours; ``saprot stop`` keeps the residues done (partial in the log, a selector, the CSV,
the heatmap and the saved session) and the next ``saprot scan`` computes only the rest.

Runs under .venv-chimerax (``make test-chimerax``); each test is its own ChimeraX process.
"""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)

WATCH = """
from chimerax.saprot import preview
preview.REFINE_INTERVAL_S = 0.0
seen = []

def protein():
    from chimerax.atomic import Residue
    residues = session.models[0].residues
    return residues.filter(residues.polymer_types == Residue.PT_AMINO)

def colours():
    return [[int(c) for c in r.ribbon_color] for r in protein()]

def watch(session, label, view):
    seen.append({"stage": view.stage, "done": int(view.done.sum()), "colours": colours(),
                 "scores": [getattr(r, "saprot_score", None) for r in protein()]})
preview.VIEW_HOOKS.append(watch)

def core_summary(method):
    from saprot_scan.backends.onnx import load_model
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.pipeline import scan_chain
    chain = read_structure(params["1aki"], chains=["A"])[0]
    model = load_model(params["model"], device="cpu")
    return [float(v) for v in scan_chain(chain, model=model, method=method, use_cache=False).summary("mean")]
"""


def test_preview_first_then_refined_to_the_final_colours(chimerax):
    out = chimerax(WATCH + """
run(session, "open " + params["1aki"])
before = colours()
log.clear()
run(session, "saprot scan #1/A model " + params["model"])
out["log"] = log.text()
out["before"] = before
out["seen"] = [{k: v for k, v in s.items()} for s in seen[:3]] + [{"stage": s["stage"], "done": s["done"]}
                                                                 for s in seen[3:]]
out["final_scores"] = [r.saprot_score for r in protein()]
out["final_colours"] = colours()
out["wt"] = core_summary("wt")
out["masked"] = core_summary("masked")
""")
    seen = out["seen"]
    assert seen[0]["stage"] == "preview" and seen[0]["done"] == 0
    assert seen[0]["colours"] != out["before"], "the preview was painted"
    assert seen[0]["scores"] == pytest.approx(out["wt"]), "the preview is the one-pass wild-type marginal"
    refined = [s for s in seen if s["stage"] == "refining"]
    assert len(refined) > 5 and seen[1]["colours"] != seen[0]["colours"], "colours refine as chunks finish"
    assert [s["done"] for s in refined] == sorted(s["done"] for s in refined) and refined[-1]["done"] == 129
    assert out["final_scores"] == pytest.approx(out["masked"], abs=1e-6)
    log = out["log"]
    assert "on this machine (tiny, fp32, 129 residues)" in log and "about " in log
    # the preview comes first (it takes one pass); the masked scan's estimate right after, before its first pass
    assert log.index("preview (one-pass wild-type marginal") < log.index("on this machine")


def test_stop_keeps_partial_residues_and_rerun_completes_them(chimerax):
    out = chimerax(WATCH + """
def stop(session, label, view):
    if view.stage == "refining" and view.done.sum() >= 40 and not out.get("stopped"):
        out["stopped"] = True
        run(session, "saprot stop")
preview.VIEW_HOOKS.append(stop)
run(session, "open " + params["1aki"])
log.clear()
work = params["work"]
run(session, f"saprot scan #1/A model {params['model']} csv {work}/partial.csv heatmap {work}/partial.svg")
out["log1"] = log.text()
out["scores1"] = [getattr(r, "saprot_score", None) for r in protein()]
run(session, "select saprot_unscanned")
out["unscanned"] = len(session.selection.items("atoms")[0].unique_residues) if session.selection.items("atoms") else 0
run(session, f"save {work}/partial.cxs")
preview.VIEW_HOOKS.remove(stop)
seen.clear()
log.clear()
run(session, f"saprot scan #1/A model {params['model']} csv {work}/whole.csv")
out["log2"] = log.text()
out["rerun_first"] = {"stage": seen[0]["stage"], "done": seen[0]["done"]}
out["rerun_runs"] = len([s for s in seen if s["stage"] == "refining"])
out["scores2"] = [r.saprot_score for r in protein()]
out["masked"] = core_summary("masked")
run(session, "close session")
run(session, f"open {work}/partial.cxs")
from chimerax.saprot.store import stored_scans
out["restored_partial"] = [s.result.partial for s in stored_scans(session)]
import csv
with open(f"{work}/partial.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
out["csv_scanned"] = sorted({r["scanned"] for r in rows})
out["csv_yes"] = sum(r["scanned"] == "yes" for r in rows)
out["csv_blank_no"] = all(r["score"] == "" for r in rows if r["scanned"] == "no")
out["svg_partial"] = "PARTIAL: " in open(f"{work}/partial.svg").read()
""")
    done = sum(v is not None for v in out["scores1"])
    assert out["stopped"] and 40 <= done < 129
    assert f"partial: {done} of 129 residues scored" in out["log1"] and "select saprot_unscanned" in out["log1"]
    assert out["unscanned"] == 129 - done
    for value, expected in zip(out["scores1"], out["masked"]):
        assert value is None or value == pytest.approx(expected, abs=1e-6)
    assert out["csv_scanned"] == ["no", "yes"] and out["csv_yes"] == 19 * done and out["csv_blank_no"]
    assert out["svg_partial"] and out["restored_partial"] == [True]
    assert f"{done} of 129 residues reused from a stopped scan" in out["log2"]
    assert f"129 residues, {done} reused from a stopped scan" in out["log2"]
    assert out["rerun_first"] == {"stage": "preview", "done": done}, "the rerun starts from the kept residues"
    assert out["rerun_runs"] <= -(-(129 - done) // 4), "only the residues still missing are run"
    assert out["scores2"] == pytest.approx(out["masked"], abs=1e-6)


def test_a_range_scan_previews_only_its_range(chimerax):
    """The chain is scored whole (SaProt's context), but the preview and its refinements colour only the
    residues the spec names, as the final colouring does."""
    out = chimerax(WATCH + """
run(session, "open " + params["1aki"])
before = colours()
numbers = [int(r.number) for r in protein()]
run(session, "saprot scan #1/A:10-20 model " + params["model"] + " key false")
out["before"], out["numbers"] = before, numbers
out["stages"] = [s["stage"] for s in seen]
out["first"] = seen[0]["colours"]
out["last_refined"] = [s for s in seen if s["stage"] == "refining"][-1]["colours"]
out["final"] = colours()
""")
    inside = [i for i, n in enumerate(out["numbers"]) if 10 <= n <= 20]
    outside = [i for i, n in enumerate(out["numbers"]) if not 10 <= n <= 20]
    assert out["stages"][0] == "preview" and "refining" in out["stages"]
    for colours in (out["first"], out["last_refined"], out["final"]):
        assert [colours[i] for i in outside] == [out["before"][i] for i in outside]
        assert [colours[i] for i in inside] != [out["before"][i] for i in inside]
