"""Bad input to the saprot commands in real ChimeraX: one clear ``UserError`` line, nothing changed
(no attribute, no colour, no key, no output file)."""
import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)

SNAPSHOT = """
def snapshot():
    from chimerax.atomic import all_atomic_structures
    from chimerax.color_key.model import get_model
    state = []
    for m in all_atomic_structures(session):
        state.append([[int(c) for c in r.ribbon_color] + [getattr(r, "saprot_score", None)] for r in m.residues])
        state.append(m.atoms.colors.tolist())
    key = get_model(session, create=False)
    state.append(None if key is None else [label for _, label in key.rgbas_and_labels])
    return state
"""


def test_bad_specs_and_models_change_nothing(chimerax):
    out = chimerax(SNAPSHOT + """
import os
open(params["work"] + "/fake.onnx", "w").write("this is not an ONNX model")
run(session, "open " + params["1aki"])
run(session, "open " + params["5ugo"])
before = snapshot()
m = " model " + params["model"]
errors = {
    "no residues": user_error("saprot scan #7" + m),
    "nucleic only": user_error("saprot scan #2 & nucleic" + m),
    "ligand only": user_error("saprot scan #1:HOH" + m),
    "missing model": user_error("saprot scan #1 model " + params["work"] + "/missing.onnx"),
    "unknown model": user_error("saprot scan #1 model no-such-model"),
    "bad summary": user_error("saprot scan #1 summary median" + m),
    "bad heatmap": user_error("saprot scan #1 heatmap " + params["work"] + "/h.txt" + m),
    "unwritable csv": user_error("saprot scan #1 csv " + params["work"] + "/no/such/dir/s.csv" + m),
    "bad method": user_error("saprot scan #1 method fast" + m),
    "not a model": user_error("saprot scan #1 model " + params["work"] + "/fake.onnx"),
}
out["errors"] = errors
out["unchanged"] = snapshot() == before
out["files"] = sorted(os.listdir(params["work"] + "/run"))
""")
    errors = out["errors"]
    assert all(errors.values()), errors
    assert "matches no residues" in errors["no residues"]
    assert "nucleic-acid" in errors["nucleic only"]
    assert "ligand" in errors["ligand only"]
    assert "missing.onnx" in errors["missing model"]
    assert "no-such-model" in errors["unknown model"]
    assert "summary must be" in errors["bad summary"]
    assert ".png" in errors["bad heatmap"]
    assert "does not exist" in errors["unwritable csv"]
    assert "fake.onnx" in errors["not a model"]
    for text in errors.values():
        assert "\n" not in text.strip() and "Traceback" not in text
    assert out["unchanged"]
    assert not [f for f in out["files"] if f.endswith((".csv", ".txt", ".part"))]


def test_commands_that_need_a_scan_say_so(chimerax):
    out = chimerax(SNAPSHOT + """
run(session, "open " + params["1aki"])
before = snapshot()
out["errors"] = {
    "color": user_error("saprot color #1"),
    "mutations": user_error("saprot mutations #1/A:5"),
    "heatmap": user_error("saprot heatmap " + params["work"] + "/h.png"),
}
run(session, "saprot scan #1/A model " + params["model"])
out["after_scan"] = {
    "mutations of water": user_error("saprot mutations #1:HOH"),
    "too many": user_error("saprot mutations #1"),
    "color no match": user_error("saprot color #3"),
}
log.clear()
out["stop"] = run(session, "saprot stop")
out["stop_text"] = log.text()
""")
    for name, text in out["errors"].items():
        assert text and "saprot scan" in text, name
    after = out["after_scan"]
    assert all(after.values()), after
    assert "at most 20" in after["too many"]
    assert out["stop"] == 0 and "no SaProt job is running" in out["stop_text"]


def test_mixed_spec_scores_only_the_protein_chains(chimerax):
    out = chimerax("""
run(session, "open " + params["5ugo"])
log.clear()
run(session, "saprot scan #1 model " + params["model"])
m = session.models[0]
from chimerax.atomic import Residue
scored = [r for r in m.residues if getattr(r, "saprot_score", None) is not None]
out["types"] = sorted({int(r.polymer_type) for r in scored})
out["amino"] = int(Residue.PT_AMINO)
out["nucleic_coloured_grey"] = any(
    list(r.ribbon_color[:3]) == [160, 160, 160] for r in m.residues if r.polymer_type == Residue.PT_NUCLEIC)
out["chains"] = sorted({r.chain_id for r in scored})
""")
    assert out["types"] == [out["amino"]]
    assert out["chains"]
    assert not out["nucleic_coloured_grey"]  # nucleic acids are left as they were


def test_device_cuda_without_a_usable_gpu_is_one_clear_line(chimerax):
    out = chimerax(SNAPSHOT + """
import onnxruntime
out["cuda"] = "CUDAExecutionProvider" in onnxruntime.get_available_providers()
run(session, "open " + params["1aki"])
before = snapshot()
out["error"] = user_error("saprot scan #1 device cuda model " + params["model"]) if not out["cuda"] else None
out["unchanged"] = snapshot() == before
""")
    if out["cuda"]:
        pytest.skip("this onnxruntime has a CUDA provider; the no-GPU message cannot be checked here")
    assert out["error"] and "cuda" in out["error"].lower() and "\n" not in out["error"].strip()
    assert out["unchanged"]
