"""Issue 10, item 3: ChimeraX paints by the core's viewer contract, so a residue's colour is the one PyMOL
gives it (tests/pymol/test_pymol_instances.py checks the PyMOL side against the same functions): same
residue -> same number (the core's summary) -> same colour (``viewers.colour_for`` over
``viewers.colour_scale``: the robust limit, one-sided for ``min``), unscored residues in the contract's grey,
pLDDT-masked residues named as in PyMOL. Runs a real headless ChimeraX."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)


def test_residue_colours_follow_the_core_contract(chimerax):
    out = chimerax("""
from saprot_scan import load_model, read_structure, scan_chain
from saprot_scan import viewers
run(session, "open " + params["1aki"])
run(session, "saprot scan #1/A model " + params["model"] + " key false")
chain = read_structure(params["1aki"], chains=["A"])[0]
core = scan_chain(chain, model=load_model(params["model"], device="cpu"), use_cache=False)
def compare(summary):
    values = core.summary(summary)
    scale = viewers.colour_scale(values, summary)
    expected = {rid.label: [round(255 * c) for c in viewers.colour_for(float(v), scale)]
                for rid, v in zip(core.residue_ids, values)}
    got = {f"{r.number}{r.insertion_code}": [int(c) for c in r.ribbon_color[:3]]
           for r in session.models[0].residues if f"{r.number}{r.insertion_code}" in expected}
    worst = max(max(abs(a - b) for a, b in zip(got[k], expected[k])) for k in expected)
    return worst, len(got), list(scale.stops())
out["worst"], out["count"], _ = compare("mean")
run(session, "saprot color summary min key true")
out["worst_min"], out["count_min"], out["stops_min"] = compare("min")
from chimerax.color_key.model import get_model
key = get_model(session, create=False)
out["key_min"] = None if key is None else [float(label) for _, label in key.rgbas_and_labels]
out["grey"] = list(viewers.UNSCORED_RGB8)
# pLDDT-masked residues (struct token '#') get the same named spec as PyMOL's selection
from chimerax.saprot.store import stored_scans
(scan,) = stored_scans(session)
scan.result.struct = "".join("#" if i in (2, 7) else "d" for i in range(len(scan.result)))
run(session, "saprot color key false")
run(session, "select saprot_plddt_masked")
out["masked"] = sorted(r.number for r in session.selection.items("atoms")[0].unique_residues) \
    if session.selection.items("atoms") else []
out["masked_expected"] = sorted(scan.result.residue_ids[i].number for i in (2, 7))
scan.result.struct = "d" * len(scan.result)
run(session, "saprot color key false")
from chimerax.core.commands.atomspec import get_selector
out["masked_after"] = get_selector("saprot_plddt_masked") is not None
""")
    assert out["count"] == 129
    assert out["worst"] <= 1  # 8-bit rounding only
    # summary=min: one-sided scale (-limit .. -limit/2 .. 0), the same colours, and the key shows those numbers
    assert out["count_min"] == 129 and out["worst_min"] <= 1
    low, centre, high = out["stops_min"]
    assert high == 0.0 and centre == low / 2 < 0
    assert out["key_min"] == pytest.approx(out["stops_min"])
    assert out["masked"] == out["masked_expected"] and len(out["masked"]) == 2
    assert not out["masked_after"]  # no masked residue left: the name is removed
    assert out["grey"] == [160, 160, 160]  # the grey test_chimerax_scan.py reads off unscored residues


def test_models_use_saves_the_preference_pymol_and_the_cli_read(chimerax, test_model):
    out = chimerax("""
from saprot_scan import saved_preference
run(session, "saprot models use " + params["model"])
out["saved"] = saved_preference()
out["bad"] = user_error("saprot models use no-such-model")
out["kept"] = saved_preference()
run(session, "saprot models use auto")
out["after"] = saved_preference()
""")
    from pathlib import Path

    assert out["saved"] == out["kept"] == str(Path(test_model).resolve())
    assert "unknown model" in out["bad"]
    assert out["after"] is None


def test_a_saved_model_that_no_longer_loads_does_not_stop_a_scan(chimerax):
    """Issue 19: a preference naming a model that is not cached (saved by an older version, or a deleted cache)
    falls back to the default with its note in the log, as in the CLI and PyMOL; a model named in the
    command that cannot load is still refused in one line."""
    out = chimerax("""
from saprot_scan import save_preference
save_preference("saprot-35m")
run(session, "open " + params["1aki"])
run(session, "saprot scan #1/A key false")
out["log"] = log.text()
out["scored"] = sum(1 for r in session.models[0].residues if getattr(r, "saprot_score", None) is not None)
out["named"] = user_error("saprot scan #1/A model saprot-35m")
run(session, "saprot models use burial-blosum")  # a scorer kind's name is a model choice too
from saprot_scan import saved_preference
out["kind_saved"] = saved_preference()
""")
    assert out["scored"] == 129
    assert "with model structure-blend (offline default" in out["log"]
    assert "the saved model preference saprot-35m cannot be used" in out["log"]
    assert "'saprot-scan models use auto' forgets it" in out["log"]
    assert "saprot-35m is not cached" in out["named"]
    assert out["kind_saved"] == "burial-blosum"
