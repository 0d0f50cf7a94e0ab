"""Issue 11, item 6: ``saprot_load`` colours a structure loaded in PyMOL from a ``saprot-scan batch`` folder,
with the numbers batch wrote, without scoring again (real pymol-open-source, real batch output)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pymol = pytest.importorskip("pymol", reason="pymol-open-source is not installed")
pymol2 = pytest.importorskip("pymol2", reason="pymol-open-source is not installed")
pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")

REPO = Path(__file__).resolve().parents[2]
try:
    import saprot_scan_pymol  # noqa: F401
except ImportError:  # not pip-installed: use the checkout
    sys.path.insert(0, str(REPO / "plugin_pymol"))

from pymol import cmd  # noqa: E402
from saprot_scan.batch import ScoreOptions, load_results, run_batch  # noqa: E402
from saprot_scan_pymol import commands  # noqa: E402
from saprot_scan_pymol.jobs import RUNNER  # noqa: E402
from saprot_scan_pymol.store import STORE, saprot_score  # noqa: E402
from test_pymol_plugin import pm  # noqa: E402,F401


def test_saprot_load_colours_from_a_batch_folder(test_data, tmp_path):
    RUNNER.wait(120)
    cmd.reinitialize()  # the process's own PyMOL exists before a second instance starts (as the other tests do)
    STORE.clear()
    path = test_data / "foldseek_3di" / "5zng.cif"
    out = tmp_path / "batch"
    report = run_batch([str(path)], out, ScoreOptions(model="saprot-scan-default", method="wt"), quiet=True)
    assert report.ok == 1
    expected = {r.chain_id: r for r in load_results(out, "5zng")}
    assert sorted(expected) == ["A", "C"]  # 5ZNG's two protein chains
    instance = pymol2.PyMOL()
    instance.start()
    try:
        instance.cmd.load(str(path), "zng")
        before = []
        instance.cmd.iterate("zng and name CA", "before.append(color)", space={"before": before})
        results = commands.saprot_load(str(out), "5zng", "zng", _self=instance.cmd)
        assert sorted(results) == ["zng/A", "zng/C"]
        for chain, result in expected.items():
            np.testing.assert_array_equal(results[f"zng/{chain}"].scores, result.scores)
            for rid, value in zip(result.residue_ids, result.summary("mean")):
                if np.isfinite(value):
                    assert saprot_score("zng", chain, rid.label) == float(value)
        after = []
        instance.cmd.iterate("zng and name CA", "after.append(color)", space={"after": after})
        assert len(after) == len(before) and after != before
        assert len(set(after)) > 10  # a gradient, not one colour

        instance.cmd.load(str(test_data / "foldseek_3di" / "1l2y.cif"), "t")
        with pytest.raises(pymol.CmdException, match="is not the chain A that was scored as 5zng"):
            commands.saprot_load(str(out), "5zng", "t", _self=instance.cmd)
        with pytest.raises(pymol.CmdException, match="not in the batch output"):
            commands.saprot_load(str(out), "1abc", "zng", _self=instance.cmd)
        assert cmd.get_names("objects") == []  # the process's own PyMOL was never touched
    finally:
        instance.stop()
        STORE.clear()


def test_saprot_load_keeps_the_batch_scorers_meaning(pm, test_data, tmp_path, capfd):
    """Issue 24, item 1: a folder the offline default (z-scores) wrote is read back as z-scores: saprot_mutations,
    saprot_suggest and the heatmap say so, and never "better than the wild type"."""
    from support.batch_runs import run_batch

    out = tmp_path / "bout"
    proc = run_batch(test_data / "foldseek_3di" / "1l2y.cif", "--out", out, "--model", "structure-blend")
    assert proc.returncode == 0, proc.stderr
    cmd.load(str(test_data / "foldseek_3di" / "1l2y.cif"), "trp")
    capfd.readouterr()
    cmd.do(f"saprot_load {out}, 1l2y, trp")
    cmd.do("saprot_mutations trp and resi 6")
    cmd.do("saprot_suggest")
    text = capfd.readouterr().out
    assert "z units" in text and "the chain's typical substitution" in text
    assert "better than the wild type" not in text.replace("none is claimed better than the wild type", "")
    assert "log-ratio" not in text
    heatmap = tmp_path / "map.svg"
    cmd.do(f"saprot_heatmap {heatmap}")
    svg = heatmap.read_text()
    assert "z units" in svg and "worse than the wild type" not in svg


def test_saprot_load_refuses_a_manifest_part_outside_the_folder(test_data, tmp_path):
    """Issue 27, item 7: a planted manifest naming a Parquet file outside the folder is refused in PyMOL too,
    and nothing is coloured from it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    RUNNER.wait(120)
    STORE.clear()
    path = test_data / "foldseek_3di" / "1l2y.cif"
    out = tmp_path / "batch"
    assert run_batch([str(path)], out, ScoreOptions(model="saprot-scan-default", method="wt"), quiet=True).ok == 1
    part = next((out / "scores").glob("part-*.parquet"))
    planted = tmp_path / "elsewhere" / part.name
    planted.parent.mkdir()
    planted.write_bytes(part.read_bytes())
    manifest = pq.read_table(out / "manifest.parquet")
    manifest = manifest.set_column(manifest.schema.get_field_index("part"), "part",
                                   pa.array([str(planted)] * manifest.num_rows, type=pa.string()))
    pq.write_table(manifest, out / "manifest.parquet")
    instance = pymol2.PyMOL()
    instance.start()
    try:
        instance.cmd.load(str(path), "trp")
        with pytest.raises(pymol.CmdException, match="not a file of its scores/ folder"):
            commands.saprot_load(str(out), "1l2y", "trp", _self=instance.cmd)
        assert STORE.results() == []  # nothing was stored or coloured from the planted part
    finally:
        instance.stop()
        STORE.clear()


def test_saprot_load_shows_the_known_variants_a_batch_was_given(pm, tmp_path, capfd):
    """Issue 26 with issue 24's reload: a batch given known variants per structure is read back with them, and
    saprot_load logs the agreement and makes the saprot_known_* selections, as saprot_known would."""
    import shutil

    from support.batch_runs import run_batch as run_cli_batch
    from support.data import EXAMPLE_STRUCTURE
    from support.known_files import ACCESSION, build_files

    (tmp_path / "files").mkdir()
    json_path, am_path, _ = build_files(tmp_path / "files")
    folder = tmp_path / "known"
    folder.mkdir()
    shutil.copy(json_path, folder)
    shutil.copy(am_path, folder)
    (tmp_path / "map.csv").write_text(f"structure_id,accession\n{EXAMPLE_STRUCTURE.name.split('.')[0]},{ACCESSION}\n")
    out = tmp_path / "bout"
    proc = run_cli_batch(EXAMPLE_STRUCTURE, "--out", out, "--model", "burial-blosum", "--known-dir", folder,
                         "--accessions", tmp_path / "map.csv")
    assert proc.returncode == 0, proc.stderr
    stored = load_results(out, EXAMPLE_STRUCTURE.name.split(".")[0])[0].known
    pathogenic = sorted({v["residue"] for v in stored["variants"] if v["label"] == "pathogenic"}, key=int)
    assert pathogenic
    cmd.load(str(EXAMPLE_STRUCTURE), "lyz")
    capfd.readouterr()
    cmd.do(f"saprot_load {out}, {EXAMPLE_STRUCTURE.name.split('.')[0]}, lyz")
    text = capfd.readouterr().out
    assert stored["agreement"]["line"] in text
    assert "saprot_known_pathogenic" in cmd.get_names("selections")
    got = set()
    cmd.iterate("saprot_known_pathogenic and name CA", "got.add(resi)", space={"got": got})
    assert got == set(pathogenic)
