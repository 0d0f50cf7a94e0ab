"""Issue 14, items 3 and 4 in a real headless ChimeraX 1.7.1: ``saprot suggest`` gives the core's suggestions,
away from a residue spec, with ``cxcmd`` links and labels; ``saprot scan ... fitted F`` colours by
a fitted model's scores. Runs under .venv-chimerax (``make test-chimerax``); each test is its own process."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)

CORE = """
from saprot_scan import ResidueId, load_model, near_residues, read_structure, scan_chain, suggest_singles

def core_result(path, chain_id="A"):
    chain = read_structure(path, chains=[chain_id])[0]
    return chain, scan_chain(chain, model=load_model(params["model"], device="cpu"), use_cache=False)
"""


def test_suggest_matches_the_core_and_links_residues(chimerax):
    out = chimerax(CORE + """
run(session, "open " + params["1aki"])
run(session, "saprot scan #1 model " + params["model"])
log.clear()
got = run(session, "saprot suggest avoid #1/A:35,52 radius 6 top 8")
chain, result = core_result(params["1aki"])
excluded = near_residues(chain, {ResidueId("A", 35), ResidueId("A", 52)}, [chain], 6.0)
want = suggest_singles([result], {"A": excluded}, top=8)
out["got"] = [[c, m, round(v, 6)] for c, m, v in got]
out["want"] = [["#1/A", s.author, round(s.score, 6)] for s in want]
out["excluded_hit"] = any(bool(excluded[s.index]) for s in want)
out["html"] = log.html()
import re
link = re.search(r'href="cxcmd:(select [^"]+)">select them all', log.html()).group(1)
run(session, link)
out["selected"] = sorted(str(r.number) for r in session.selection.items("atoms")[0].unique_residues)
out["want_residues"] = sorted({s.residue.label for s in want})
from chimerax.label.label3d import ObjectLabels
labels = [m for m in session.models if isinstance(m, ObjectLabels)]
out["labels"] = sorted(l.text for m in labels for l in m.labels())
""", offscreen=True)
    assert out["got"] and out["got"] == out["want"]
    assert not out["excluded_hit"]
    assert out["selected"] == out["want_residues"]
    html = out["html"]
    first = out["got"][0][1]
    assert f'href="cxcmd:select #1/A:{first[1:-1]}"' in html
    assert f'href="cxcmd:saprot mutations #1/A:{first[1:-1]}"' in html
    assert "SaProt suggestions" in html and "none to PGC" in html
    assert set(m for _, m, _ in out["got"]) <= set(" ".join(out["labels"]).split())


def test_suggest_errors_change_nothing(chimerax):
    out = chimerax("""
run(session, "open " + params["1aki"])
out["before_scan"] = user_error("saprot suggest")
run(session, "saprot scan #1 model " + params["model"])
out["bad_allow"] = user_error("saprot suggest allow W")
out["bad_top"] = user_error("saprot suggest top 0")
out["ligand_avoid"] = user_error("saprot suggest avoid #1:HOH")
""")
    assert "run saprot scan first" in out["before_scan"]
    assert "--allow takes letters among PGC" in out["bad_allow"]
    assert "must be at least 1" in out["bad_top"]
    assert "ligand" in out["ligand_avoid"]


def test_scan_colours_by_a_fitted_model(chimerax):
    out = chimerax(CORE + """
import numpy as np
from saprot_scan import AMINO_ACIDS, FittedModel, apply_fitted
chain, result = core_result(params["1aki"])
rng = np.random.default_rng(0)
weights = rng.normal(0, 1, (len(chain), 20))
for i, aa in enumerate(chain.sequence):
    weights[i, AMINO_ACIDS.index(aa)] = 0.0
fitted = FittedModel(chain_id="A", sequence=chain.sequence, residue_labels=[r.label for r in chain.residue_ids],
                     zero_shot={"model": result.model_name, "sha256": result.model_sha256, "method": "masked"},
                     alpha=1.0, intercept=0.0, zs_coef=2.0, weights=np.round(weights, 10), n_labels=40)
path = params["work"] + "/fit.json"
fitted.save(path)
run(session, "open " + params["1aki"])
run(session, "open " + params["1l2y"])
run(session, "saprot scan #1/A model " + params["model"] + " fitted " + path)
expected = apply_fitted(result, fitted, "fit.json").summary("mean")
values = {f"{r.number}{r.insertion_code}": r.saprot_score for r in session.models[0].residues
          if getattr(r, "saprot_score", None) is not None}
out["diff"] = max(abs(values[rid.label] - float(v)) for rid, v in zip(chain.residue_ids, expected))
out["zero_shot_diff"] = max(abs(values[rid.label] - float(v)) for rid, v in zip(chain.residue_ids,
                                                                                result.summary("mean")))
out["other_sequence"] = user_error("saprot scan #2.1 model " + params["model"] + " fitted " + path)
out["missing"] = user_error("saprot scan #1 model " + params["model"] + " fitted " + params["work"] + "/none.json")
""")
    assert out["diff"] < 1e-6 and out["zero_shot_diff"] > 1e-3
    assert "another sequence" in out["other_sequence"]
    assert "none.json" in out["missing"] and "does not exist" in out["missing"]


def test_fitted_scan_names_unmeasured_residues_its_unit_and_stores_percentiles(chimerax):
    """Issue 19: a fitted model that knows its measured residues (1-40 here) gives the selector
    saprot_unmeasured, the percentile attribute equals the core's, and the log says what the numbers are."""
    out = chimerax(CORE + """
import numpy as np
from saprot_scan import AMINO_ACIDS, FittedModel, apply_fitted
chain, result = core_result(params["1aki"])
weights = np.zeros((len(chain), 20))
weights[:40] = np.random.default_rng(1).normal(0, 1, (40, 20))
for i, aa in enumerate(chain.sequence):
    weights[i, AMINO_ACIDS.index(aa)] = 0.0
fitted = FittedModel(chain_id="A", sequence=chain.sequence, residue_labels=[r.label for r in chain.residue_ids],
                     zero_shot={"model": result.model_name, "sha256": result.model_sha256, "method": "masked"},
                     alpha=1.0, intercept=0.0, zs_coef=2.0, weights=np.round(weights, 10), n_labels=40,
                     measured=tuple(range(40)), reference={"kind": "wild type", "value": 0.0, "source": "a WT row"})
path = params["work"] + "/fit.json"
fitted.save(path)
run(session, "open " + params["1aki"])
log.clear()
run(session, "saprot scan #1/A model " + params["model"] + " fitted " + path)
out["scan_log"] = log.html() + log.text()
run(session, "select saprot_unmeasured")
out["unmeasured"] = len(session.selection.items("atoms")[0].unique_residues)
expected = apply_fitted(result, fitted, "fit.json").percentile_summary("mean")
values = {f"{r.number}": r.saprot_percentile for r in session.models[0].residues
          if getattr(r, "saprot_percentile", None) is not None}
out["diff"] = max(abs(values[rid.label] - float(v)) for rid, v in zip(chain.residue_ids, expected))
log.clear()
run(session, "saprot mutations #1/A:100")
out["mutations"] = log.html()
""")
    assert out["unmeasured"] == 129 - 40 and out["diff"] < 1e-9
    assert "predicted assay value minus the wild type" in out["scan_log"] and "saprot_percentile" in out["scan_log"]
    assert "89 residues had no assay label" in out["scan_log"] and "classes: bottom quarter" in out["scan_log"]
    assert "<th>percentile</th><th>class</th>" in out["mutations"]
    assert "no assay label at this site" in out["mutations"] and "log P(mutant)" not in out["mutations"]
