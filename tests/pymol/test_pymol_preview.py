"""Issue 25 (4) in real PyMOL: a masked SaProt scan colours the chain with the one-pass wild-type preview before
the masked scan finishes, refines the colours as residues finish, and ends with today's colouring; a stop keeps
the residues done (marked partial in the log, a selection, the CSV and the heatmap) and the next saprot_scan
computes only the rest. The tiny real model; every test starts from a reinitialised PyMOL."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from test_pymol_plugin import atom_state, ca_values, cmd, core_result, pm, structure  # noqa: F401

from saprot_scan_pymol import painting, scanning  # noqa: E402
from saprot_scan_pymol.commands import saprot_scan  # noqa: E402
from saprot_scan_pymol.export_commands import saprot_csv, saprot_heatmap  # noqa: E402
from saprot_scan_pymol.jobs import RUNNER  # noqa: E402
from saprot_scan_pymol.store import STORE  # noqa: E402


@pytest.fixture
def watch(monkeypatch, tmp_path):
    """Every view the core hands the plugin, with the stage the scene showed then and whether the scan still ran;
    refinements painted as soon as they come; a result cache of the test's own."""
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(scanning, "REFINE_INTERVAL_S", 0.0)
    seen = []

    def hook(key, view):
        seen.append({"stage": view.stage, "done": int(view.done.sum()), "shown": STORE.stage,
                     "running": RUNNER.busy(), "painted": dict(STORE.painted), "colours": atom_state()})
    monkeypatch.setattr(scanning, "VIEW_HOOKS", [hook])
    return seen


def test_preview_first_then_refined_to_the_final_colouring(pm, test_data, watch, tiny_onnx_model, tmp_path):
    path = structure(test_data, "1aki")
    cmd.load(path)
    untouched = atom_state()
    saprot_scan("1aki", method="masked", background=0)
    preview, refined = watch[0], [v for v in watch if v["stage"] == "refining"]
    assert preview["stage"] == "preview" and preview["done"] == 0 and preview["running"]
    assert preview["shown"] == "preview" and preview["colours"] != untouched, "the preview was painted"
    wt = core_result(path, tiny_onnx_model, method="wt").summary("mean")
    assert [preview["painted"][("1aki", "A", str(n))] for n in range(1, 130)] == pytest.approx(wt.tolist())
    assert len(refined) > 5 and refined[0]["colours"] != preview["colours"], "colours refine as chunks finish"
    assert all(v["running"] and v["shown"] == "refining" for v in refined)
    final = core_result(path, tiny_onnx_model).summary("mean")
    assert STORE.stage == "final" and list(ca_values("1aki").values()) == pytest.approx(final.tolist(), abs=1e-9)


def test_stop_keeps_partial_residues_and_rerun_completes_them(pm, test_data, watch, tiny_onnx_model, tmp_path,
                                                               capfd):
    path = structure(test_data, "1aki")
    cmd.load(path)
    stop_after = 40

    def stop(key, view):
        if view.stage == "refining" and view.done.sum() >= stop_after:
            RUNNER.cancel()
    scanning.VIEW_HOOKS.append(stop)
    saprot_scan("1aki", method="masked", background=0)
    out = capfd.readouterr().out
    assert RUNNER.last_outcome == "cancelled"
    entry = STORE.scores[next(iter(STORE.scores))]
    done = entry.result.scanned_count
    assert entry.result.partial and stop_after <= done < 129
    assert f"1aki/A: partial: {done} of 129 residues scored" in out and "saprot_scan again resumes" in out
    assert cmd.count_atoms(f"{painting.UNSCANNED_SELECTION} and name CA") == 129 - done
    final = core_result(path, tiny_onnx_model)
    values = ca_values("1aki")
    scored = [i for i, flag in enumerate(entry.result.scanned) if flag]
    for i in range(129):
        assert (values[str(i + 1)] is not None) == (i in scored)
    assert [values[str(i + 1)] for i in scored] == pytest.approx(final.summary("mean")[scored].tolist())
    saprot_csv(str(tmp_path / "partial.csv"))
    with open(tmp_path / "partial.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["scanned"] for r in rows} == {"yes", "no"}
    assert sum(r["scanned"] == "yes" for r in rows) == 19 * done and all(r["score"] == "" for r in rows
                                                                          if r["scanned"] == "no")
    saprot_heatmap(str(tmp_path / "partial.svg"))
    assert f"PARTIAL: {done} of 129 residues scored" in (tmp_path / "partial.svg").read_text()

    scanning.VIEW_HOOKS.remove(stop)
    watch.clear()
    saprot_scan("1aki", method="masked", background=0)
    out = capfd.readouterr().out
    assert f"{done} of 129 residues reused from a stopped scan" in out
    assert watch[0]["stage"] == "preview" and watch[0]["done"] == done, "the rerun starts from the kept residues"
    assert len([v for v in watch if v["stage"] == "refining"]) <= -(-(129 - done) // 4), "only the rest is run"
    assert not STORE.scores[next(iter(STORE.scores))].result.partial
    assert painting.UNSCANNED_SELECTION not in cmd.get_names("selections")
    values = ca_values("1aki")
    assert [values[str(n)] for n in range(1, 130)] == pytest.approx(final.summary("mean").tolist(), abs=1e-6)
    assert np.isfinite(STORE.scores[next(iter(STORE.scores))].result.scores).all()
