"""Known variants read from real-format files, placed on 1AKI through the alignment, and the agreement figures
equal scikit-learn's ROC AUC and scipy's Spearman."""
from __future__ import annotations

import numpy as np
import pytest

from support.data import EXAMPLE_STRUCTURE
from support.known_files import ACCESSION, OFFSET, lysozyme_sequence

from saprot_scan.errors import InputError
from saprot_scan.known import accession_of, align_known, attach, combine, read_known
from saprot_scan.known.agreement import roc_auc, spearman


@pytest.fixture
def files(known_files):
    return known_files


def test_formats_are_told_by_content(files, tmp_path):
    json_path, am_path, variants = files
    renamed = tmp_path / "variants.txt"
    renamed.write_bytes(json_path.read_bytes())
    known = read_known(renamed)
    assert known.accession == ACCESSION and known.sequence == lysozyme_sequence()
    assert len(known) == len(variants) and known.skipped == 2  # the stop and the deletion
    am = read_known(am_path)
    assert len(am) == 19 * len(lysozyme_sequence()) and am.sequence == lysozyme_sequence()
    plain = tmp_path / "lab.csv"
    plain.write_text("mutant,label\nK19A,pathogenic\nV20A,benign\nK19A:V20A,benign\n")
    lab = read_known(plain)
    assert {v.label for v in lab.variants.values()} == {"pathogenic", "benign"} and lab.skipped == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a known-variants file"):
        read_known(bad)


def test_positions_map_through_the_alignment_and_agreement_matches_sklearn(files):
    from sklearn.metrics import roc_auc_score
    from scipy.stats import spearmanr

    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.pipeline import scan_chain

    json_path, am_path, variants = files
    assert accession_of(EXAMPLE_STRUCTURE, "A") == ACCESSION
    chain = read_structure(EXAMPLE_STRUCTURE)[0]
    known = combine([read_known(json_path), read_known(am_path)])
    alignment = align_known(chain, known)
    result = attach(scan_chain(chain, "burial-blosum", use_cache=False), known, alignment)
    block = result.known
    assert block["mapping"]["identity"] == 1.0 and block["mapping"]["aligned"] == 129
    assert block["mapping"]["outside"] == 18 * 19  # the signal peptide (its two ClinVar variants among them)
    rows = {v["mutant"]: v for v in block["variants"]}
    for position, wt, mt, _ in variants:
        if position > OFFSET:
            row = rows[f"{wt}{position - OFFSET}{mt}"]
            assert row["residue"] == str(position - OFFSET) and row["reference_position"] == position
    labelled = [v for v in block["variants"] if v["label"] in ("pathogenic", "benign")]
    y = [v["label"] == "pathogenic" for v in labelled]
    scores = [result.scores[v["position"] - 1, "ACDEFGHIKLMNPQRSTVWY".index(v["mt"])] for v in labelled]
    auc = block["agreement"]["roc_auc"]
    assert auc["enough"] and auc["value"] == pytest.approx(roc_auc_score(y, -np.array(scores)), abs=1e-4)
    assert auc["low"] <= auc["value"] <= auc["high"]
    paired = [v for v in block["variants"] if v["am_pathogenicity"] is not None]
    rho = spearmanr([v["score"] for v in paired], [-v["am_pathogenicity"] for v in paired]).statistic
    assert block["agreement"]["spearman"]["value"] == pytest.approx(rho, abs=1e-4)
    assert block["agreement"]["spearman"]["n"] == 129 * 19
    assert "ROC AUC" in block["agreement"]["line"] and "Spearman" in block["agreement"]["line"]
    assert len(block["agreement"]["disagreements"]) == 10


def test_auc_and_spearman_with_ties_equal_the_libraries():
    from sklearn.metrics import roc_auc_score
    from scipy.stats import spearmanr

    rng = np.random.default_rng(3)
    sick, fine = rng.integers(0, 5, 17).astype(float), rng.integers(1, 6, 23).astype(float)
    y = [1] * len(sick) + [0] * len(fine)
    assert roc_auc(sick, fine) == pytest.approx(roc_auc_score(y, -np.concatenate([sick, fine])))
    a, b = rng.integers(0, 4, 50), rng.normal(size=50)
    assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic)


def test_too_few_labelled_variants_say_so(files, tmp_path):
    from saprot_scan.encoding.structure import read_structure
    from saprot_scan.pipeline import scan_chain

    plain = tmp_path / "lab.csv"
    plain.write_text("mutant,label\nK1A,pathogenic\nV2A,benign\n")
    chain = read_structure(EXAMPLE_STRUCTURE)[0]
    result = attach(scan_chain(chain, "burial-blosum", use_cache=False), read_known(plain), None)
    auc = result.known["agreement"]["roc_auc"]
    assert auc["value"] is None and "too few to say" in auc["text"] and result.known["mapping"]["mapped"] == 2


def test_accession_from_pdb_dbref_modelcif_and_alphafold_names(tmp_path):
    pdb = tmp_path / "model.pdb"
    pdb.write_text("HEADER    HYDROLASE\n"
                   "DBREF  1AKI A    1   129  UNP    P00698   LYSC_CHICK      19    147             \n"
                   "DBREF  1AKI B    1   129  UNP    P61626   LYSC_HUMAN      19    148             \n"
                   "ATOM      1  N   LYS A   1      35.365  22.342  -0.018  1.00 20.00           N  \n")
    assert accession_of(pdb, "A") == "P00698" and accession_of(pdb, "B") == "P61626"
    modelcif = tmp_path / "model.cif"
    modelcif.write_text("data_model\nloop_\n_ma_target_ref_db_details.target_entity_id\n"
                        "_ma_target_ref_db_details.db_name\n_ma_target_ref_db_details.db_accession\n"
                        "1 UNP Q9Y6K9\n")
    assert accession_of(modelcif) == "Q9Y6K9"
    named = tmp_path / "AF-A0A023GPI8-F1-model_v4.pdb"
    named.write_text("ATOM      1  N   MET A   1      0.000   0.000   0.000  1.00 90.00           N  \n")
    assert accession_of(named) == "A0A023GPI8"
    assert accession_of(tmp_path / "missing.pdb") == ""
