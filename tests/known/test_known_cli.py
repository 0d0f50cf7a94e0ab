"""Issue 26, known variants through the command line: --known files (told by content) and --uniprot fetched
from a loopback stand-in of the EBI Proteins API and AlphaFold DB; the columns, the JSON block, the heatmap
marks, the printed agreement line, equal to scikit-learn's roc_auc_score and scipy's spearmanr computed here
from the CSV the scan wrote and the files the test built (1AKI author number = UniProt P00698 position - 18)."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from saprot_scan import cli
from support.data import EXAMPLE_STRUCTURE
from support.fake_known import FakeKnownServer
from support.known_files import ACCESSION, OFFSET, alphamissense_rows, lysozyme_sequence

MODEL = "burial-blosum"


def _rows(path) -> dict[str, dict]:
    with open(path) as handle:
        return {row["mutant"]: row for row in csv.DictReader(handle)}


def _independent(rows: dict[str, dict], variants) -> tuple[float, float]:
    """ROC AUC (ClinVar P/LP vs B/LB) and Spearman vs AlphaMissense, by the libraries, from the files alone."""
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    y, s = [], []
    for position, wt, mt, significance in variants:
        if position > OFFSET:
            y.append("pathogenic" in significance.lower())
            s.append(float(rows[f"{wt}{position - OFFSET}{mt}"]["score"]))
    scores, am = [], []
    for variant, value, _ in alphamissense_rows(lysozyme_sequence()):
        position = int(variant[1:-1])
        if position > OFFSET:
            scores.append(float(rows[f"{variant[0]}{position - OFFSET}{variant[-1]}"]["score"]))
            am.append(-value)
    return roc_auc_score(y, -np.array(s)), spearmanr(scores, am).statistic


def _line(err: str) -> tuple[float, float]:
    match = re.search(r"ROC AUC (-?[\d.]+) .*Spearman (-?[\d.]+)", err)
    assert match, err
    return float(match.group(1)), float(match.group(2))


@pytest.mark.parametrize("scorer", [MODEL, "structure-blend", "tiny SaProt-format model"])
def test_scan_known_files_columns_json_heatmap_and_agreement(known_files, tmp_path, capsys, scorer,
                                                             tiny_onnx_model):
    json_path, am_path, variants = known_files
    out = tmp_path / "scan"
    model = str(tiny_onnx_model) if scorer.startswith("tiny") else scorer
    assert cli.main(["scan", str(EXAMPLE_STRUCTURE), "--model", model, "--method", "wt" if scorer.startswith("tiny")
                     else "masked", "--known", str(json_path), "--known",
                     str(am_path), "--csv", f"{out}.csv", "--json", f"{out}.json", "--heatmap", f"{out}.svg"]) == 0
    err = capsys.readouterr().err
    assert "identity 100.0%, coverage 100.0%" in err
    rows = _rows(f"{out}.csv")
    auc, rho = _independent(rows, variants)
    printed_auc, printed_rho = _line(err)
    assert printed_auc == pytest.approx(auc, abs=6e-4) and printed_rho == pytest.approx(rho, abs=6e-4)
    block = json.loads(open(f"{out}.json").read())["chains"][0]["known_variants"]
    assert block["accession"] == ACCESSION
    assert block["agreement"]["roc_auc"]["value"] == pytest.approx(auc, abs=1e-4)
    assert block["agreement"]["spearman"]["value"] == pytest.approx(rho, abs=1e-4)
    position, wt, mt, significance = next(v for v in variants if v[0] > OFFSET)
    row = rows[f"{wt}{position - OFFSET}{mt}"]
    assert row["clinical_significance"] == significance and row["am_class"] in ("LBen", "Amb", "LPath")
    am = dict((v, p) for v, p, _ in alphamissense_rows(lysozyme_sequence()))
    assert float(row["am_pathogenicity"]) == am[f"{wt}{position}{mt}"]
    svg = open(f"{out}.svg").read()
    labelled = sum(1 for v in variants if v[0] > OFFSET and "pathogenic" in v[3].lower())
    assert svg.count('id="saprot-known-pathogenic:A:0"') == 1 and labelled > 0


def test_plain_labelled_csv_without_a_sequence_reads_author_numbers(tmp_path, capsys):
    lab = tmp_path / "lab.csv"
    lab.write_text("mutant,label\nK1A,pathogenic\nV2A,benign\nW28F,pathogenic\nQ1A,benign\n")
    assert cli.main(["scan", str(EXAMPLE_STRUCTURE), "--model", MODEL, "--known", str(lab), "--csv",
                     str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert "author residue numbers" in err and "1 with another wild type" in err
    assert "ROC AUC: too few to say (2 pathogenic/likely pathogenic vs 1 benign/likely benign" in err
    assert _rows(tmp_path / "o.csv")["W28F"]["known_label"] == "pathogenic"


def test_labelled_csv_is_read_in_the_reference_numbering(tmp_path, capsys):
    from support.data import reference_sequence

    lab = tmp_path / "lab.csv"  # UniProt numbers: K19 is the mature chain's K1, V20 its V2
    lab.write_text("mutant,label\nK19A,pathogenic\nV20A,benign\nK1A,benign\n")
    assert cli.main(["scan", str(EXAMPLE_STRUCTURE), "--model", MODEL, "--known", str(lab), "--reference",
                     str(reference_sequence(ACCESSION)), "--csv", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    assert "2 placed, aligned to" in err and "1 outside the chain" in err
    rows = _rows(tmp_path / "o.csv")
    assert rows["K1A"]["known_label"] == "pathogenic" and rows["V2A"]["known_label"] == "benign"


@pytest.mark.parametrize("content, words", [("a,b\n1,2\n", "not a known-variants file"),
                                            ('{"features": 3}', "no 'features' list")])
def test_bad_known_file_is_one_line_before_any_work(tmp_path, capsys, content, words):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out = tmp_path / "o.csv"
    assert cli.main(["scan", str(EXAMPLE_STRUCTURE), "--model", MODEL, "--known", str(bad), "--csv", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("saprot-scan: error:") and words in err[0] and not out.exists()


def _cli(env_extra: dict, *args) -> subprocess.CompletedProcess:
    env = dict(os.environ, **env_extra)
    return subprocess.run([sys.executable, "-m", "saprot_scan", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)


def test_uniprot_fetch_from_the_stand_in_then_from_the_cache(known_files, tmp_path):
    json_path, am_path, variants = known_files
    env = {"SAPROT_SCAN_CACHE": str(tmp_path / "cache")}
    with FakeKnownServer({ACCESSION: json_path.read_bytes()}, {ACCESSION: am_path.read_bytes()}) as server:
        env.update(server.environment())
        first = _cli(env, "scan", EXAMPLE_STRUCTURE, "--model", MODEL, "--uniprot", "--csv", tmp_path / "a.csv")
        assert first.returncode == 0, first.stderr
        assert f"downloading {server.url}/proteins/api/variation/{ACCESSION}" in first.stderr
        assert len(server.requests) == 2
        again = _cli(env, "scan", EXAMPLE_STRUCTURE, "--model", MODEL, "--uniprot", ACCESSION, "--csv",
                     tmp_path / "b.csv")
        assert again.returncode == 0 and len(server.requests) == 2 and "using the cached" in again.stderr
    auc, rho = _independent(_rows(tmp_path / "a.csv"), variants)
    assert _line(first.stderr) == pytest.approx((auc, rho), abs=6e-4)
    assert _line(again.stderr) == _line(first.stderr)


def _error_lines(run: subprocess.CompletedProcess) -> int:
    """Error lines on stderr (the stage lines of the fetch come before them); never a traceback."""
    assert "Traceback" not in run.stderr
    return sum(line.startswith("saprot-scan: error:") for line in run.stderr.splitlines())


def test_uniprot_faults_are_one_line_each(known_files, tmp_path):
    json_path, _, _ = known_files
    env = {"SAPROT_SCAN_CACHE": str(tmp_path / "cache"), "SAPROT_SCAN_FETCH_TIMEOUT": "0.5"}
    with FakeKnownServer({ACCESSION: json_path.read_bytes()}, {}) as server:
        env.update(server.environment())
        missing = _cli(env, "scan", EXAMPLE_STRUCTURE, "--model", MODEL, "--uniprot", "Q99999", "--csv",
                       tmp_path / "m.csv")
        assert missing.returncode == 2 and _error_lines(missing) == 1, missing.stderr
        assert "UniProt has no such accession (HTTP 404" in missing.stderr and "Q99999" in missing.stderr
        no_am = _cli(env, "scan", EXAMPLE_STRUCTURE, "--model", MODEL, "--uniprot", "--csv", tmp_path / "n.csv")
        assert no_am.returncode == 0 and "no AlphaMissense scores for P00698 (HTTP 404)" in no_am.stderr
        assert "Spearman: too few to say (0 substitutions" in no_am.stderr
        server.delay = 3.0
        slow = _cli(dict(env, SAPROT_SCAN_CACHE=str(tmp_path / "other")), "scan", EXAMPLE_STRUCTURE, "--model",
                    MODEL, "--uniprot", "--csv", tmp_path / "s.csv", "--quiet")
    lines = slow.stderr.strip().splitlines()
    assert slow.returncode == 1 and len(lines) == 1, slow.stderr  # the network's fault, as for model fetch
    assert lines[0].startswith("saprot-scan: error: cannot fetch the known variants of P00698: 127.0.0.1:")
    assert "timed out" in lines[0] and not (tmp_path / "s.csv").exists()
