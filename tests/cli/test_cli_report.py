"""Issue 26, section 2: ``--report F.html`` on scan, fit, suggest and batch, through the real command line.

One self-contained file (no network loads, the 3D viewer and the structure inlined) whose data are the
scan's own numbers, with the command, versions and model hash that made it; a bad name fails before any
work. The page's behaviour in a real browser is tested in test_report_browser.py.
"""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from support.batch_runs import gz_tar
from support.data import data_dir
from support.report_page import external_loads, page_data
from test_core_bad_input import assert_one_line_error, run_cli

STRUCTURE_SCORER = "burial-blosum"  # a real built-in scorer: no model file, seconds per chain


@pytest.fixture(autouse=True)
def private_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


def test_scan_report_is_one_self_contained_page_of_the_scans_numbers(example_structure, tiny_onnx_model, tmp_path):
    proc = run_cli("scan", example_structure, "--model", tiny_onnx_model, "--method", "wt", "--json", "s.json",
                   "--report", "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "wrote r.html" in proc.stderr
    page = tmp_path / "r.html"
    assert external_loads(page) == []
    text = page.read_text(encoding="utf-8")
    assert "3Dmol" in text and text.count("<script") == 3  # the viewer, the data, the page's script: all inline
    data, saved = page_data(page), json.loads((tmp_path / "s.json").read_text())
    (chain,) = data["chains"]
    (result,) = saved["chains"]
    assert [r["label"] for r in chain["residues"]] == [r["residue"] for r in result["residues"]]
    assert chain["scores"] == [r["scores"] for r in result["residues"]]
    assert chain["percentiles"] == [r["percentiles"] for r in result["residues"]]
    assert len(chain["residues"]) == 129 and all(len(row) == 20 for row in chain["cells"])
    assert data["structure"]["format"] == "pdb" and data["structure"]["text"].count(" CA ") >= 129
    provenance = data["provenance"]
    assert provenance["command"].startswith("saprot-scan scan ") and "--report r.html" in provenance["command"]
    assert provenance["models"] == [{"name": result["model"], "sha256": result["model_sha256"], "method": "wt"}]
    assert len(result["model_sha256"]) == 64 and provenance["versions"]["saprot-scan"]
    assert chain["meaning"]["describe"].startswith("score = ")


def test_only_a_report_keeps_the_table_off_the_terminal(example_structure, tmp_path):
    proc = run_cli("scan", example_structure, "--model", STRUCTURE_SCORER, "--quiet", "--report", "r.html",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and (tmp_path / "r.html").stat().st_size > 0


@pytest.mark.parametrize("command", ["scan", "fit", "suggest"])
@pytest.mark.parametrize("name,message", [("r.txt", "--report r.txt: use a .html file name"),
                                          ("missing/r.html", "cannot write missing/r.html: folder missing does not")])
def test_a_bad_report_name_fails_before_any_work(command, name, message, example_structure, tmp_path):
    extra = ["--labels", "labels.csv"] if command == "fit" else []
    (tmp_path / "labels.csv").write_text("mutant,score\nK1A,0.5\n")
    proc = run_cli(command, example_structure, "--model", "no-such-model", *extra, "--report", name, cwd=tmp_path)
    assert_one_line_error(proc, message)  # the report's name is checked before the (unknown) model is loaded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labels.csv"]


def test_a_300_residue_scan_report_stays_under_3_mb(tmp_path):
    structure = data_dir() / "foldseek_3di" / "5ugo.cif"  # one chain of 326 residues
    proc = run_cli("scan", structure, "--model", STRUCTURE_SCORER, "--quiet", "--report", "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert len(page_data(tmp_path / "r.html")["chains"][0]["residues"]) == 326
    assert (tmp_path / "r.html").stat().st_size < 3_000_000


def test_an_ensemble_page_shows_only_the_scored_model(tmp_path):
    structure = data_dir() / "foldseek_3di" / "1gya.cif"  # NMR, 18 models in a 3.3 MB file
    proc = run_cli("scan", structure, "--model", STRUCTURE_SCORER, "--quiet", "--model-number", "3",
                   "--report", "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = page_data(tmp_path / "r.html")["structure"]["text"]
    assert "MODEL" not in text and text.count(" CA ") == 105


def test_fit_report_marks_the_measured_sites(example_structure, tmp_path):
    scan = run_cli("scan", example_structure, "--model", STRUCTURE_SCORER, "--quiet", "--csv", "zs.csv", cwd=tmp_path)
    assert scan.returncode == 0, scan.stderr
    with open(tmp_path / "zs.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if int(r["position"]) <= 60]  # labels on the first 60 only
    rng = np.random.default_rng(1)
    picked = rng.choice(len(rows), 120, replace=False)
    (tmp_path / "labels.csv").write_text("mutant,score\n" + "".join(
        f"{rows[i]['mutant']},{float(rows[i]['score']) + rng.normal(0, 0.2):.4f}\n" for i in picked))
    proc = run_cli("fit", example_structure, "--model", STRUCTURE_SCORER, "--labels", "labels.csv", "--quiet",
                   "--report", "fit.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (chain,) = page_data(tmp_path / "fit.html")["chains"]
    measured = {int(rows[i]["position"]) for i in picked}
    assert [r["measured"] for r in chain["residues"]] == [r["position"] in measured for r in chain["residues"]]
    assert chain["meaning"]["label"].startswith("fitted score")
    assert any("Spearman" in note for note in chain["notes"])  # the cross-validation line travels with it


def test_suggest_report_lists_the_suggestions_of_the_csv(example_structure, tmp_path):
    proc = run_cli("suggest", example_structure, "--model", STRUCTURE_SCORER, "--quiet", "--top", "5",
                   "--combinations", "2", "--csv", "s.csv", "--report", "s.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with open(tmp_path / "s.csv", newline="") as handle:
        expected = [(r["kind"], r["score"]) for r in csv.DictReader(handle)]
    shown = page_data(tmp_path / "s.html")["suggestions"]
    assert [(s["kind"], f"{s['score']:.4f}") for s in shown] == [(k, f"{float(v):.4f}") for k, v in expected]
    assert len(shown) == 7
    residues = page_data(tmp_path / "s.html")["chains"][0]["residues"]
    for s in shown:  # the row a click selects is the suggestion's (first) site
        assert s["mutant"].split(":")[0][1:-1] == residues[s["index"]]["label"]


def test_batch_report_indexes_the_folder_and_links_a_page_per_structure(tmp_path):
    pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
    data = data_dir() / "foldseek_3di"
    (tmp_path / "bad.pdb").write_text("ATOM      1  N   ALA A   1       0.0     0.0     0.0\n")
    archive = gz_tar(tmp_path / "proteome.tar", {"proteome/AF-4i39-model_v4.cif.gz": data / "4i39.cif"})
    proc = run_cli("batch", data / "1aki.cif", data / "5zng.cif", tmp_path / "bad.pdb", archive, "--model",
                   STRUCTURE_SCORER, "--out", "out", "--quiet", "--report", "index.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    index = (tmp_path / "index.html").read_text()
    assert external_loads(tmp_path / "index.html") == []
    assert 'href="index_pages/1aki.html"' in index and 'href="index_pages/5zng.html"' in index
    assert "bad" in index and "failed" in index and "3 of 4 structures scored" in index
    member = page_data(tmp_path / "index_pages" / "AF-4i39-model_v4.html")  # read from the archive: no file for 3D
    assert member["structure"] is None and len(member["chains"][0]["residues"]) == 125
    two = page_data(tmp_path / "index_pages" / "5zng.html")
    assert [c["chain"] for c in two["chains"]] == ["A", "C"] and two["structure"]["name"] == "5zng.cif"
    assert [len(c["residues"]) for c in two["chains"]] == [79, 62]
    assert two["provenance"]["command"].startswith("saprot-scan batch ")


def test_markup_in_a_file_name_stays_text(example_structure, tmp_path):
    structure = tmp_path / "<b>&x.cif"
    structure.write_bytes(example_structure.read_bytes())
    proc = run_cli("scan", structure, "--model", STRUCTURE_SCORER, "--quiet", "--report", "r.html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "r.html").read_text()
    assert "<b>" not in text and "<title>&lt;b&gt;&amp;x.cif, chain A: saprot-scan report</title>" in text
    assert page_data(tmp_path / "r.html")["title"] == "<b>&x.cif, chain A: saprot-scan report"
