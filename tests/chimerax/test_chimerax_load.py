"""Issue 11, item 6 (ChimeraX): ``saprot load FOLDER ID [spec]`` colours an open structure from a
``saprot-scan batch`` output folder without scoring again: ``saprot_score`` is the batch's per-residue mean,
colours follow the core's contract, and ``saprot color|mutations|heatmap`` then work as after a scan.

The batch folder is written by the real CLI (``python -m saprot_scan.cli batch``, the core installed in this
interpreter) with the tiny test model; each ChimeraX body runs in its own process.
"""
import os
import subprocess
import sys

import pytest

pytest.importorskip("chimerax.core", reason="ChimeraX is not in this interpreter; run make test-chimerax")
pytest.importorskip("pyarrow", reason="batch output is Parquet: the ChimeraX venv needs pyarrow (bundle.mk)")

from chimerax_harness.fixtures import chimerax, test_data, structures, test_model  # noqa: E402,F401,F811 (fixtures)


@pytest.fixture
def batch_folder(tmp_path, test_data, test_model):
    """5ZNG (protein chains A and C) scored by ``saprot-scan batch`` into ``tmp_path/batch``."""
    path = test_data / "foldseek_3di" / "5zng.cif"
    out = tmp_path / "batch"
    proc = subprocess.run([sys.executable, "-m", "saprot_scan.cli", "batch", str(path), "--out", str(out),
                           "--model", test_model, "--method", "wt", "--device", "cpu", "--workers", "1", "--quiet"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SAPROT_SCAN_CACHE": str(tmp_path / "cli-cache")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return str(path), str(out)


def test_load_sets_the_batch_mean_and_colours_like_a_scan(chimerax, batch_folder):
    path, out_dir = batch_folder
    out = chimerax("""
import pyarrow.parquet as pq
from saprot_scan import viewers
table = pq.read_table(params["out"] + "/residues").to_pylist()
out["batch"] = {f"{r['chain']}:{r['residue']}": r["mean"] for r in table if r["structure_id"] == "5zng"}
run(session, "open " + params["zng"])
run(session, "saprot load " + params["out"] + " 5zng")
m = session.models[0]
out["attr"] = {f"{r.chain_id}:{r.number}{r.insertion_code}": r.saprot_score for r in m.residues
               if getattr(r, "saprot_score", None) is not None}
values = [v for v in out["attr"].values()]
limit = viewers.colour_limit(values)
worst = 0
for r in m.residues:
    v = getattr(r, "saprot_score", None)
    if v is not None:
        want = [round(255 * c) for c in viewers.colour_for(float(v), limit)]
        worst = max(worst, max(abs(int(a) - b) for a, b in zip(r.ribbon_color[:3], want)))
out["worst"] = worst
out["log"] = log.text()
log.clear()
run(session, "saprot mutations #1/A:" + str(next(r.number for r in m.residues if r.chain_id == "A"
                                                  and getattr(r, "saprot_score", None) is not None)))
out["mutations"] = log.text()
run(session, "saprot color #1/C summary min key false")
out["min_c"] = {f"C:{r.number}{r.insertion_code}": r.saprot_score for r in m.residues
                if r.chain_id == "C" and getattr(r, "saprot_score", None) is not None}
run(session, "saprot heatmap " + params["work"] + "/load-heatmap.png")
import os
out["heatmap"] = os.path.isfile(params["work"] + "/load-heatmap.png")
""", out=out_dir, zng=path)
    batch, attr = out["batch"], out["attr"]
    assert {k.split(":")[0] for k in batch} == {"A", "C"}
    finite = {k: v for k, v in batch.items() if v is not None and v == v}
    assert set(attr) == set(finite) and len(finite) > 100
    for label, value in finite.items():
        assert attr[label] == pytest.approx(value, rel=1e-12, abs=1e-12), label  # the number batch wrote
    assert out["worst"] <= 1  # the core's colour contract, 8-bit rounding only
    assert "batch output" in out["log"]
    assert "Substitutions of #1/A:" in out["mutations"] and "batch output" in out["mutations"]
    assert "SaProt substitutions" not in out["mutations"]  # the scorer is named by its own words, not SaProt
    assert out["min_c"] and out["heatmap"]


def test_load_errors_are_one_user_error_line(chimerax, batch_folder, tmp_path):
    path, out_dir = batch_folder
    out = chimerax("""
run(session, "open " + params["zng"])
out["wrong id"] = user_error("saprot load " + params["out"] + " 1abc")
out["no folder"] = user_error("saprot load " + params["work"] + "/no-such-folder 5zng")
out["not batch"] = user_error("saprot load " + params["work"] + " 5zng")
run(session, "open " + params["1aki"])
out["mismatch"] = user_error("saprot load " + params["out"] + " 5zng #2")
out["scored"] = [r.chain_id for r in session.models[1].residues if getattr(r, "saprot_score", None) is not None]
log.clear()
run(session, "usage saprot load")
out["usage"] = log.text()
""", out=out_dir, zng=path)
    for name in ("wrong id", "no folder", "not batch", "mismatch"):
        assert out[name] and "\n" not in out[name].strip(), (name, out[name])
        assert out[name].startswith("saprot load: "), (name, out[name])
    assert "1abc" in out["wrong id"] and "not in the batch output" in out["wrong id"]
    assert "no such folder" in out["no folder"]
    assert "not a saprot-scan batch output folder" in out["not batch"]
    assert "is not the chain A that was scored as 5zng" in out["mismatch"]
    assert out["scored"] == []
    for word in ("saprot load", "summary", "palette", "key", "model", "method"):
        assert word in out["usage"], word


def test_load_keeps_the_batch_scorers_meaning(chimerax, tmp_path, test_data):
    """Issue 24, item 1: a folder the offline default (per-chain z-scores) wrote is read back as z-scores;
    ``saprot load``, ``saprot mutations`` and ``saprot suggest`` never say "better than the wild type"."""
    path = test_data / "foldseek_3di" / "1aki.cif"  # one model, chain A
    folder = tmp_path / "bout"
    proc = subprocess.run([sys.executable, "-m", "saprot_scan.cli", "batch", str(path), "--out", str(folder),
                           "--model", "structure-blend", "--quiet"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SAPROT_SCAN_CACHE": str(tmp_path / "cli-cache")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = chimerax("""
run(session, "open " + params["path"])
run(session, "saprot load " + params["out"] + " 1aki")
run(session, "saprot mutations #1/A:44")
run(session, "saprot suggest label false")
out["log"] = log.text()
""", out=str(folder), path=str(path))
    text = out["log"]
    assert "z units" in text and "typical substitution" in text and "log-ratio" not in text
    assert "better than the wild type" not in text.replace("none is claimed better than the wild type", "")


def test_load_shows_the_known_variants_a_batch_was_given(chimerax, tmp_path, test_data):
    """Issue 26 with issue 24's reload: a batch given known variants is read back with them; ``saprot load``
    logs the agreement the run recorded and names the ``saprot_known_*`` selectors, as ``saprot known`` would."""
    import shutil

    from support.known_files import ACCESSION, build_files

    json_path, am_path, _ = build_files(tmp_path)
    folder = tmp_path / "known"
    folder.mkdir()
    shutil.copy(json_path, folder)
    shutil.copy(am_path, folder)
    (tmp_path / "map.csv").write_text(f"structure_id,accession\n1aki,{ACCESSION}\n")
    path = test_data / "foldseek_3di" / "1aki.cif"
    out_dir = tmp_path / "bout"
    proc = subprocess.run([sys.executable, "-m", "saprot_scan.cli", "batch", str(path), "--out", str(out_dir),
                           "--model", "burial-blosum", "--known-dir", str(folder), "--accessions",
                           str(tmp_path / "map.csv"), "--quiet"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SAPROT_SCAN_CACHE": str(tmp_path / "cli-cache")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = chimerax("""
from saprot_scan import load_results
stored = load_results(params["out"], "1aki")[0].known
out["line"] = stored["agreement"]["line"]
out["want"] = sorted({v["residue"] for v in stored["variants"] if v["label"] == "pathogenic"}, key=int)
run(session, "open " + params["path"])
log.clear()
run(session, "saprot load " + params["out"] + " 1aki")
out["log"] = log.text()
run(session, "select saprot_known_pathogenic")
out["got"] = sorted({str(r.number) for r in session.selection.items("atoms")[0].unique_residues}, key=int)
""", out=str(out_dir), path=str(path))
    assert out["want"] and out["got"] == out["want"]
    assert out["line"] in out["log"] and "ROC AUC" in out["line"]
