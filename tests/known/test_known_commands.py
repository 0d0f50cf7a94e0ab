"""Issue 26: known variants on score, suggest, fit and batch (with a per-structure accession), through the real
command line, each checked against an independent computation from the files the command wrote."""
from __future__ import annotations

import csv
import io
import json
import shutil

import numpy as np
import pytest

from saprot_scan import cli
from support.data import EXAMPLE_STRUCTURE
from support.known_files import ACCESSION, OFFSET, alphamissense_rows, lysozyme_sequence

MODEL = "burial-blosum"


def _auc(scores_by_mutant: dict[str, float], variants) -> float:
    from sklearn.metrics import roc_auc_score

    pairs = [("pathogenic" in s.lower(), scores_by_mutant[f"{wt}{p - OFFSET}{mt}"]) for p, wt, mt, s in variants
             if p > OFFSET]
    return roc_auc_score([y for y, _ in pairs], [-v for _, v in pairs])


def test_score_marks_the_listed_known_variants(known_files, capsys):
    json_path, am_path, variants = known_files
    position, wt, mt, significance = next(v for v in variants if v[0] > OFFSET)
    listed = f"{wt}{position - OFFSET}{mt} K1A V2A:F3A"
    assert cli.main(["score", str(EXAMPLE_STRUCTURE), "--model", MODEL, "--known", str(json_path), "--known",
                     str(am_path), "--mutations", listed]) == 0
    out = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out.out)))
    assert rows[0]["clinical_significance"] == significance and rows[0]["am_class"]
    am = dict((v, p) for v, p, _ in alphamissense_rows(lysozyme_sequence()))
    assert float(rows[1]["am_pathogenicity"]) == am[f"K{1 + OFFSET}A"] and rows[2]["am_class"] == ""
    assert "ROC AUC: too few to say" in out.err


def test_suggest_flags_known_suggestions_and_adds_columns(known_files, tmp_path, capsys):
    json_path, am_path, _ = known_files
    assert cli.main(["suggest", str(EXAMPLE_STRUCTURE), "--model", MODEL, "--known", str(json_path), "--known",
                     str(am_path), "--csv", str(tmp_path / "s.csv"), "--combinations", "0"]) == 0
    out = capsys.readouterr()
    assert "ROC AUC" in out.err and "# known: chain A" in out.out
    with open(tmp_path / "s.csv") as handle:
        rows = list(csv.DictReader(handle))
    am = dict((v, p) for v, p, _ in alphamissense_rows(lysozyme_sequence()))
    first = rows[0]["mutant"]
    author = f"{first[0]}{int(first[1:-1]) + OFFSET}{first[-1]}"
    assert float(rows[0]["am_pathogenicity"]) == am[author]


def test_fit_agreement_is_over_the_fitted_scores(known_files, tmp_path, capsys):
    json_path, am_path, variants = known_files
    from saprot_scan import read_structure, scan_chain

    zs = scan_chain(read_structure(EXAMPLE_STRUCTURE)[0], MODEL, use_cache=False)
    rng = np.random.default_rng(1)
    rows = []
    for i, j in zip(rng.integers(0, len(zs), 80), rng.integers(0, 20, 80)):
        mt = "ACDEFGHIKLMNPQRSTVWY"[j]
        if mt != zs.wt[i]:
            rows.append(f"{zs.wt[i]}{i + 1}{mt},{zs.scores[i, j] + (2.0 if i % 3 == 0 else 0.0):.5f}")
    (tmp_path / "labels.csv").write_text("mutant,score\n" + "\n".join(rows) + "\n")
    assert cli.main(["fit", str(EXAMPLE_STRUCTURE), "--model", MODEL, "--labels", str(tmp_path / "labels.csv"),
                     "--known", str(json_path), "--known", str(am_path), "--csv", str(tmp_path / "f.csv"),
                     "--json", str(tmp_path / "f.json")]) == 0
    assert "ROC AUC" in capsys.readouterr().err
    with open(tmp_path / "f.csv") as handle:
        fitted = {row["mutant"]: float(row["score"]) for row in csv.DictReader(handle)}
    block = json.loads((tmp_path / "f.json").read_text())["chains"][0]["known_variants"]
    assert block["agreement"]["roc_auc"]["value"] == pytest.approx(_auc(fitted, variants), abs=1e-4)
    assert _auc(fitted, variants) != pytest.approx(_auc({f"{zs.wt[i]}{i + 1}{a}": zs.scores[i, k]
                                                         for i in range(len(zs))
                                                         for k, a in enumerate("ACDEFGHIKLMNPQRSTVWY")},
                                                        variants), abs=1e-6)


def test_batch_takes_a_per_structure_accession(known_files, tmp_path):
    import pyarrow.parquet as pq

    json_path, am_path, variants = known_files
    folder = tmp_path / "known"
    folder.mkdir()
    shutil.copy(json_path, folder)
    shutil.copy(am_path, folder)
    plain = tmp_path / "inputs" / "lysozyme.pdb"
    plain.parent.mkdir()
    from saprot_scan import read_structure  # a copy without any accession in it: the map supplies it
    import gemmi

    structure = gemmi.read_structure(str(EXAMPLE_STRUCTURE))
    structure.setup_entities()
    plain.write_text(structure.make_pdb_string(gemmi.PdbWriteOptions(minimal=True)))
    assert read_structure(plain)[0].sequence == read_structure(EXAMPLE_STRUCTURE)[0].sequence
    (tmp_path / "map.csv").write_text(f"structure_id,accession\nlysozyme,{ACCESSION}\n")
    assert cli.main(["batch", str(plain), str(EXAMPLE_STRUCTURE), "--out", str(tmp_path / "out"), "--model",
                     MODEL, "--known-dir", str(folder), "--accessions", str(tmp_path / "map.csv"),
                     "--quiet"]) == 0
    manifest = {row["structure_id"]: json.loads(row["known"]) for row in
                pq.read_table(tmp_path / "out" / "manifest.parquet").to_pylist()}
    assert manifest["lysozyme"]["accession"] == manifest["1aki"]["accession"] == ACCESSION
    table = pq.read_table(tmp_path / "out" / "scores").to_pylist()
    for sid in ("lysozyme", "1aki"):
        scores = {r["mutant"]: r["score"] for r in table if r["structure_id"] == sid}
        assert manifest[sid]["chains"]["A"]["roc_auc"] == pytest.approx(_auc(scores, variants), abs=1e-4)
    labelled = [r for r in table if r["known_label"] == "pathogenic"]
    assert labelled and all(r["clinical_significance"] for r in labelled)

    # read back (viewers, scripts, the report): the known variants and the agreement the run recorded
    from saprot_scan.batch import load_results

    back = load_results(tmp_path / "out", "1aki")[0]
    stored = {(r["position"], r["mt"]): r["known_label"] for r in table
              if r["structure_id"] == "1aki" and r["known_label"]}
    assert {(v["position"], v["mt"]): v["label"] for v in back.known["variants"] if v["label"]} == stored
    assert back.known["accession"] == ACCESSION
    assert back.known["agreement"]["roc_auc"]["value"] == pytest.approx(manifest["1aki"]["chains"]["A"]["roc_auc"])
    assert cli.main(["batch", str(plain), str(EXAMPLE_STRUCTURE), "--out", str(tmp_path / "out"), "--model",
                     MODEL, "--known-dir", str(folder), "--accessions", str(tmp_path / "map.csv"), "--quiet",
                     "--report", str(tmp_path / "index.html")]) == 0
    index = (tmp_path / "index.html").read_text()
    auc = manifest["1aki"]["chains"]["A"]["roc_auc"]
    assert "<th>known variants</th>" in index and f"{ACCESSION}: chain A: ROC AUC {auc:.2f}" in index
    page = (tmp_path / "index_pages" / "1aki.html").read_text()
    assert back.known["agreement"]["roc_auc"]["text"] in page


def test_batch_known_dir_must_exist(tmp_path, capsys):
    assert cli.main(["batch", str(EXAMPLE_STRUCTURE), "--out", str(tmp_path / "out"), "--model", MODEL,
                     "--known-dir", str(tmp_path / "nowhere")]) == 2
    assert "--known-dir" in (err := capsys.readouterr().err) and "no such folder" in err
    assert not (tmp_path / "out").exists()
