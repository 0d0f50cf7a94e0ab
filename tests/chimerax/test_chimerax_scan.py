"""``saprot scan`` in a real headless ChimeraX 1.7.1: attribute values equal the core's, colours
follow a palette centred on 0, a colour key is shown, and the log has working ``cxcmd:`` links.

Runs under .venv-chimerax (``make test-chimerax``); each test is its own ChimeraX process.
"""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)

CORE_SCAN = """
from saprot_scan.backends.onnx import load_model
from saprot_scan.encoding.structure import read_structure
from saprot_scan.pipeline import scan_chain

def core_result(path, chain_id, method="masked"):
    chain = read_structure(path, chains=[chain_id])[0]
    model = load_model(params["model"], device="cpu")
    return scan_chain(chain, model=model, method=method, use_cache=False)
"""


def test_scan_sets_attribute_equal_to_core(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1aki"])
run(session, "saprot scan #1/A model " + params["model"])
core = core_result(params["1aki"], "A")
m = session.models[0]
values = {}
for r in m.residues:
    v = getattr(r, "saprot_score", None)
    if v is not None:
        values[f"{r.number}{r.insertion_code}"] = v
out["chimerax"] = values
out["core"] = {rid.label: float(v) for rid, v in zip(core.residue_ids, core.summary("mean"))}
from chimerax.atomic import Residue
out["registered"] = "saprot_score" in Residue._attr_registration.reg_attr_info
out["attr_type"] = str(Residue._attr_registration.reg_attr_info["saprot_score"][1][0])
""")
    assert out["registered"] and "float" in out["attr_type"]
    assert set(out["chimerax"]) == set(out["core"]) and len(out["core"]) == 129
    for label, value in out["core"].items():
        assert out["chimerax"][label] == pytest.approx(value, abs=1e-6), label


def test_select_info_and_color_byattribute_use_the_attribute(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 model " + params["model"])
m = session.models[0]
scores = sorted(r.saprot_score for r in m.residues if getattr(r, "saprot_score", None) is not None)
threshold = scores[len(scores) // 4]
run(session, f"select ::saprot_score<{threshold}")
out["selected"] = len(session.selection.items("atoms")[0].unique_residues) if session.selection.items("atoms") else 0
out["expected"] = sum(1 for s in scores if s < threshold)
log.clear()
run(session, "info residues #1/A:1-3 attribute saprot_score")
out["info"] = log.text()
out["first3"] = [m.residues[i].saprot_score for i in range(3)]
run(session, f"color byattribute r:saprot_score #1 palette -3,red:0,white:3,blue")
out["byattr_ok"] = True
""")
    assert out["selected"] == out["expected"] > 0
    for value in out["first3"]:
        assert f"saprot_score {value!r}" in out["info"]
    assert out["byattr_ok"]


def test_colours_diverge_from_zero_and_key_is_shown(chimerax):
    out = chimerax("""
import numpy as np
run(session, "open " + params["1aki"])
run(session, "delete #1/A:20@CA")   # residue 20 has no CA: the core cannot score it -> grey
run(session, "saprot scan #1 model " + params["model"])
m = session.models[0]
res = {f"{r.number}": r for r in m.residues if r.chain_id == "A"}
scored = [r for r in m.residues if getattr(r, "saprot_score", None) is not None]
lowest = min(scored, key=lambda r: r.saprot_score)
highest = max(scored, key=lambda r: r.saprot_score)
out["low"] = [lowest.saprot_score, [int(c) for c in lowest.ribbon_color]]
out["high"] = [highest.saprot_score, [int(c) for c in highest.ribbon_color]]
out["grey"] = [int(c) for c in res["20"].ribbon_color]
out["grey_has_score"] = getattr(res["20"], "saprot_score", None) is not None
near0 = min(scored, key=lambda r: abs(r.saprot_score))
out["near0"] = [near0.saprot_score, [int(c) for c in near0.ribbon_color]]
from chimerax.color_key.model import get_model
key = get_model(session, create=False)
out["key"] = None if key is None else [[float(v) for v in rgba] + [label] for rgba, label in key.rgbas_and_labels]
out["key_shown"] = key is not None and key.display
""")
    low_score, low_rgba = out["low"]
    high_score, high_rgba = out["high"]
    assert out["grey"][:3] == [160, 160, 160] and not out["grey_has_score"]
    # below zero -> toward red (R > B); above zero -> toward blue (B > R); near zero -> near white
    assert low_score < 0 and low_rgba[0] > low_rgba[2]
    if high_score > 0:
        assert high_rgba[2] > high_rgba[0]
    assert min(out["near0"][1][:3]) > 200
    assert out["key_shown"]
    labels = [float(item[4]) for item in out["key"]]
    assert len(labels) == 3 and labels[1] == 0 and labels[0] == -labels[2] < 0
    assert out["key"][0][0] > out["key"][0][2]   # red end is the negative end
    assert out["key"][2][2] > out["key"][2][0]   # blue end is the positive end


def test_log_summary_html_has_cxcmd_links_that_run(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
log.clear()
run(session, "saprot scan #1 model " + params["model"] + " heatmap " + params["work"] + "/hm.png")
html = log.html()
out["html"] = html
import re
links = re.findall(r'href="cxcmd:([^"]+)"', html)
out["links"] = links
select = [l for l in links if l.startswith("select #1/A:")][0]
run(session, select)
out["selected"] = len(session.selection.items("atoms")[0].unique_residues)
worst = sorted((r.saprot_score, r.number) for r in session.models[0].residues
               if getattr(r, "saprot_score", None) is not None)[:10]
out["worst"] = sorted(n for _, n in worst)
out["selected_numbers"] = sorted(int(x) for x in select.split(":")[1].split(","))
import os
out["heatmap_exists"] = os.path.getsize(params["work"] + "/hm.png") > 1000
""")
    assert "saprot scan" in out["html"] and "tiny" in out["html"]  # says which model scored
    assert out["selected"] == 10 and out["selected_numbers"] == out["worst"]
    assert any(l.startswith("saprot heatmap") for l in out["links"])
    assert any(l.startswith("saprot mutations #1/A:") for l in out["links"])
    assert out["heatmap_exists"]


def test_mutations_lists_19_sorted_scores_equal_to_core(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 model " + params["model"])
log.clear()
listed = run(session, "saprot mutations #1/A:52")
out["listed"] = list(listed.values())[0]
out["html"] = log.html()
core = core_result(params["1aki"], "A")
out["core"] = core.substitutions(core.index_of("52"))
""")
    listed = out["listed"]
    assert len(listed) == 19
    values = [v for _, v in listed]
    assert values == sorted(values, reverse=True)
    for (aa, v), (caa, cv) in zip(listed, out["core"]):
        assert aa == caa and v == pytest.approx(cv, abs=1e-6)
    assert out["html"].count("<tr>") == 20  # header + 19


def test_color_recolours_with_another_summary_without_rescoring(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 model " + params["model"])
import saprot_scan.pipeline as pipeline
calls = []
original = pipeline.scan_chain
pipeline.scan_chain = lambda *a, **k: calls.append(1) or original(*a, **k)
run(session, "saprot color #1 summary min palette bluered")
pipeline.scan_chain = original
out["rescored"] = len(calls)
core = core_result(params["1aki"], "A")
mins = {rid.label: float(v) for rid, v in zip(core.residue_ids, core.summary("min"))}
out["pairs"] = [(r.saprot_score, mins[str(r.number)]) for r in session.models[0].residues
                if getattr(r, "saprot_score", None) is not None]
run(session, "saprot color #1 summary G")
g = {rid.label: float(v) for rid, v in zip(core.residue_ids, core.summary("G"))}
out["pairs_g"] = [(r.saprot_score, g[str(r.number)]) for r in session.models[0].residues
                  if getattr(r, "saprot_score", None) is not None]
out["bad"] = user_error("saprot color #1 summary median")
""")
    assert out["rescored"] == 0
    assert len(out["pairs"]) == 129
    for got, want in out["pairs"] + out["pairs_g"]:
        assert got == pytest.approx(want, abs=1e-6)
    assert "summary must be mean, min, max" in out["bad"]


def test_csv_matches_core_and_wt_method(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 method wt csv " + params["work"] + "/s.csv model " + params["model"])
core = core_result(params["1aki"], "A", method="wt")
from saprot_scan.outputs.tables import csv_text
out["expected"] = csv_text([core])
out["got"] = open(params["work"] + "/s.csv").read()
""")
    assert out["got"] == out["expected"]
    assert out["got"].splitlines()[0] == "chain,position,residue,wt,mt,mutant,score,percentile,class"


def test_mutation_scores_registration_or_fallback(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
log.clear()
run(session, "saprot scan #1 model " + params["model"])
from chimerax.saprot import mutation_scores_bridge as bridge
out["available"] = bridge.mutation_scores_available()
out["text"] = log.text()
if out["available"]:
    from chimerax.mutation_scores.ms_data import mutation_scores_manager
    out["names"] = list(mutation_scores_manager(session).names())
out["scored"] = sum(1 for r in session.models[0].residues if getattr(r, "saprot_score", None) is not None)
""")
    assert out["scored"] == 129  # the scan itself never depends on mutation_scores
    if out["available"]:
        assert "saprot_1_A" in out["names"]
    else:  # ChimeraX 1.7 (the only one installable here) has no mutation_scores bundle
        assert "no mutation_scores bundle" in out["text"]


def test_several_structures_are_each_scored(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1aki"])
run(session, "open " + params["1aki"])
log.clear()
run(session, "saprot scan #1,2 model " + params["model"])
out["text"] = log.text()
from chimerax.atomic import all_atomic_structures
models = all_atomic_structures(session)
out["counts"] = [sum(1 for r in m.residues if getattr(r, "saprot_score", None) is not None) for m in models]
a = [r.saprot_score for r in models[0].residues if getattr(r, "saprot_score", None) is not None]
b = [r.saprot_score for r in models[1].residues if getattr(r, "saprot_score", None) is not None]
out["same"] = a == b
""")
    assert out["counts"] == [129, 129] and out["same"]
    assert "2 structures" in out["text"] and "#1/A" in out["text"] and "#2/A" in out["text"]


def test_usage_and_help_page(chimerax):
    out = chimerax("""
log.clear()
for cmd in ("scan", "color", "mutations", "heatmap", "models"):
    run(session, f"usage saprot {cmd}")
out["usage"] = log.text()
import chimerax.saprot, os
docs = os.path.join(os.path.dirname(chimerax.saprot.__file__), "docs", "user", "commands", "saprot.html")
out["help_page"] = os.path.isfile(docs) and "saprot scan" in open(docs).read()
from chimerax.core.commands import cli
out["url"] = cli.command_url("saprot scan")
run(session, "saprot models")
out["models"] = log.html()
""")
    for word in ("saprot scan", "model", "method", "summary", "palette", "key", "heatmap", "csv", "device",
                 "saprot color", "saprot mutations", "saprot heatmap", "saprot models"):
        assert word in out["usage"], word
    assert out["help_page"]
    assert "saprot.html" in (out["url"] or "")
    assert "SaProt models" in out["models"] and "default:" in out["models"]
    assert "saprot models fetch saprot-35m" in out["models"]  # fetchable: the command that gets it
    assert "saprot-scan models import FOLDER --name saprot-1.3b" in out["models"]  # import only: how to import it


def test_partial_spec_scores_whole_chain_but_colours_only_the_spec(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1aki"])
m = session.models[0]
before = {r.number: [int(c) for c in r.ribbon_color] for r in m.residues}
run(session, "saprot scan #1/A:10-20 model " + params["model"] + " key false")
after = {r.number: [int(c) for c in r.ribbon_color] for r in m.residues}
out["changed"] = sorted(n for n in before if before[n] != after[n])
out["scored"] = sum(1 for r in m.residues if getattr(r, "saprot_score", None) is not None)
core = core_result(params["1aki"], "A")
out["r30"] = [m.residues[29].saprot_score, float(core.summary("mean")[core.index_of("30")])]
from chimerax.color_key.model import get_model
out["key"] = get_model(session, create=False) is not None
""")
    assert out["scored"] == 129                      # SaProt sees the whole chain
    assert set(out["changed"]) <= set(range(10, 21)) and out["changed"]
    assert out["r30"][0] == pytest.approx(out["r30"][1], abs=1e-6)
    assert not out["key"]                            # key false: no colour key


def test_models_fetch_and_export_fail_in_one_line_without_their_extras(chimerax):
    out = chimerax("""
import importlib.util
out["has_hub"] = importlib.util.find_spec("huggingface_hub") is not None
out["unknown"] = user_error("saprot models fetch no-such-model")
out["fetch"] = user_error("saprot models fetch saprot-35m") if not out["has_hub"] else "skipped"
out["no_folder"] = user_error("saprot models export " + params["work"] + "/nothing out " + params["work"] + "/m.onnx")
import os
os.makedirs(params["work"] + "/ckpt", exist_ok=True)
out["bad_suffix"] = user_error("saprot models export " + params["work"] + "/ckpt out " + params["work"] + "/m.txt")
out["export"] = user_error("saprot models export " + params["work"] + "/ckpt out " + params["work"] + "/m.onnx")
out["written"] = os.path.exists(params["work"] + "/m.onnx")
""")
    assert "unknown model 'no-such-model'" in out["unknown"]
    if not out["has_hub"]:   # .venv-chimerax carries no huggingface_hub: a clear line, no download
        assert "fetch extra" in out["fetch"]
    assert "does not exist" in out["no_folder"] or "not a folder" in out["no_folder"]
    assert ".onnx" in out["bad_suffix"]
    assert "no config.json" in out["export"]  # the empty folder is refused first; export needs no torch
    assert not out["written"]


def test_alternate_locations_score_like_the_file_and_stay_as_shown(chimerax):
    out = chimerax(CORE_SCAN + """
run(session, "open " + params["1k6p"])      # two chains with alternate locations
m = session.models[0]
before = (m.atoms.coords.tolist(), list(m.atoms.alt_locs), m.atoms.bfactors.tolist())
out["alt_loc_atoms"] = int((m.atoms.num_alt_locs > 1).sum())
run(session, "saprot scan #1 model " + params["model"])
out["unchanged"] = before == (m.atoms.coords.tolist(), list(m.atoms.alt_locs), m.atoms.bfactors.tolist())
pairs = []
for chain_id in ("A", "B"):
    core = core_result(params["1k6p"], chain_id)
    want = {rid.label: float(v) for rid, v in zip(core.residue_ids, core.summary("mean"))}
    for r in m.residues:
        if r.chain_id == chain_id and getattr(r, "saprot_score", None) is not None:
            pairs.append((r.saprot_score, want[f"{r.number}{r.insertion_code}"]))
out["pairs"] = pairs
""")
    assert out["alt_loc_atoms"] > 0 and out["unchanged"]
    assert len(out["pairs"]) == 198
    for got, want in out["pairs"]:
        assert got == pytest.approx(want, abs=1e-6)


def test_plddt_masking_follows_the_core_for_predicted_and_measured_files(chimerax):
    out = chimerax(CORE_SCAN + """
text = open(params["1aki"]).read().replace("#", "# model from AlphaFold" + chr(10) + "#", 1)
variants = {
    "measured": text,                                                       # X-ray entry citing AlphaFold
    "predicted": text.replace("X-RAY DIFFRACTION", "THEORETICAL MODEL"),    # a prediction: B-factors = pLDDT
}
for name, body in variants.items():
    path = params["work"] + f"/{name}.cif"
    open(path, "w").write(body)
    m = run(session, "open " + path)[0]
    run(session, f"saprot scan #{m.id_string} model " + params["model"])
    core = core_result(path, "A")
    want = {rid.label: float(v) for rid, v in zip(core.residue_ids, core.summary("mean"))}
    out[name] = {"masked": core.plddt_masked_count,
                 "pairs": [(r.saprot_score, want[str(r.number)]) for r in m.residues
                           if getattr(r, "saprot_score", None) is not None]}
""")
    assert out["measured"]["masked"] == 0     # measured B-factors are never read as pLDDT
    assert out["predicted"]["masked"] > 0     # pLDDT < 70: structure tokens masked, as SaProt does
    for name in ("measured", "predicted"):
        assert len(out[name]["pairs"]) == 129
        for got, want in out[name]["pairs"]:
            assert got == pytest.approx(want, abs=1e-6), name


def test_default_structure_scorer_sets_the_core_number_and_names_itself(chimerax):
    """Issues 12 and 20: the offline default structure-blend runs through the bundle unchanged, equal to the core."""
    out = chimerax("""
import os
os.environ.pop("SAPROT_SCAN_MODEL", None)
from saprot_scan import load_scorer, read_structure, scan_chain
run(session, "open " + params["1aki"])
log.clear()
run(session, "saprot scan #1/A")
out["log"] = log.text()
core = scan_chain(read_structure(params["1aki"], chains=["A"])[0], load_scorer("structure-blend"), use_cache=False)
m = session.models[0]
out["chimerax"] = {f"{r.number}{r.insertion_code}": r.saprot_score for r in m.residues
                   if getattr(r, "saprot_score", None) is not None}
out["core"] = {rid.label: float(v) for rid, v in zip(core.residue_ids, core.summary("mean"))}
""")
    assert "structure-blend" in out["log"]
    assert set(out["chimerax"]) == set(out["core"]) and len(out["core"]) == 129
    for label, value in out["core"].items():
        assert out["chimerax"][label] == pytest.approx(value, abs=1e-6), label
