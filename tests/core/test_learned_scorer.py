"""Issue 20: the learned structure scorer: its shipped trees, their export, the protocol behind them, its use.

The biology checks it shares with burial-blosum (disulfides, buried core, proline into helices) run from
tests/core/test_structure_scorer.py, parametrised over both scorers.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from saprot_scan import AMINO_ACIDS, EnsembleScorer, load_scorer, model_list, read_structure, scan_chain
from saprot_scan.backends.learned import (LEARNED_SCORER_NAME, MANIFEST, MODEL_FOLDER, LearnedStructureScorer,
                                          TreeEnsemble, learned_scores, load_trees)
from saprot_scan.backends.learned_features import FEATURE_NAMES, substitution_features
from saprot_scan.errors import ModelError
from saprot_scan.models.hashing import sha256_file

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # the training recipe lives in models/training (not an installed package)

from models.training import learned as recipe  # noqa: E402


@pytest.fixture(scope="module")
def lysozyme(example_structure):
    return read_structure(example_structure, chains=["A"])[0]


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((MODEL_FOLDER / MANIFEST).read_text())


def test_shipped_trees_match_their_hash_and_are_small_plain_json(manifest):
    path = MODEL_FOLDER / manifest["file"]
    assert sha256_file(path) == manifest["sha256"]
    assert path.stat().st_size == manifest["bytes"] < 4_000_000
    data = json.loads(path.read_text())  # plain JSON: no pickle anywhere
    assert tuple(data["features"]) == FEATURE_NAMES and len(data["trees"]) == manifest["trees"]


def test_json_trees_reproduce_scikit_learns_predictions(manifest):
    """The rows stored at export time: numpy's walk of the JSON gives what scikit-learn predicted."""
    data = json.loads((MODEL_FOLDER / manifest["file"]).read_text())
    rows = np.array(data["check"]["rows"])
    np.testing.assert_allclose(TreeEnsemble.from_json(data).predict(rows), data["check"]["predictions"], atol=1e-9)


def test_exporter_and_evaluator_agree_with_scikit_learn_including_missing_values():
    """A fresh model with NaN in training and prediction rows: the export keeps scikit-learn's missing-value
    routes, and the chunked numpy walk equals ``predict`` on every row."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rng = np.random.default_rng(1)
    x = rng.normal(size=(3000, 5))
    y = np.sin(x[:, 0]) + x[:, 1] * (x[:, 2] > 0) + rng.normal(scale=0.1, size=3000)
    x[rng.random(x.shape) < 0.05] = np.nan
    model = HistGradientBoostingRegressor(max_iter=40, max_leaf_nodes=9, random_state=0).fit(x, y)
    names = tuple(f"f{k}" for k in range(5))
    data = recipe.export_trees(model, names, x[:10])
    probe = rng.normal(size=(5000, 5))
    probe[rng.random(probe.shape) < 0.1] = np.nan
    trees = TreeEnsemble.from_json(data)
    np.testing.assert_allclose(trees.predict(probe, chunk=777), model.predict(probe), atol=1e-9)
    # the scorer's path: tests on per-residue columns once per residue, the rest per cell
    per_residue, per_cell = probe[:150, :2], probe[:3000, 2:].reshape(150, 20, 3)
    flat = np.concatenate([np.repeat(per_residue, 20, axis=0), per_cell.reshape(3000, 3)], axis=1)
    np.testing.assert_allclose(trees.predict_grid(per_residue, per_cell, chunk=7).ravel(), model.predict(flat),
                               atol=1e-9)


def test_scores_shape_wild_type_zero_unknown_rows_nan_and_z_units(lysozyme):
    trees = load_trees(str(MODEL_FOLDER))[0]
    sequence = lysozyme.sequence[:40] + "X" + lysozyme.sequence[41:]
    scores = learned_scores(trees, sequence, lysozyme.coords)
    assert scores.shape == (len(lysozyme), 20)
    assert np.isnan(scores[40]).all()
    known = [i for i, aa in enumerate(sequence) if aa != "X"]
    wt = np.array([AMINO_ACIDS.index(sequence[i]) for i in known])
    assert (scores[known, wt] == 0.0).all()
    subs = scores[known].copy()
    subs[np.arange(len(known)), wt] = np.nan
    assert abs(np.nanmean(subs)) < 1e-9 and np.nanstd(subs) == pytest.approx(1.0)


@pytest.mark.parametrize("length", [1, 2, 6, 7])
def test_short_chains_are_scored(lysozyme, length):
    """Chains shorter than the 7-residue burial window (peptides) get a table like any other."""
    trees = load_trees(str(MODEL_FOLDER))[0]
    scores = learned_scores(trees, lysozyme.sequence[:length], lysozyme.coords[:length])
    assert scores.shape == (length, 20) and np.isfinite(scores).all()


def test_features_finite_when_side_chains_are_missing(lysozyme):
    """No CB on any residue but the cysteines still gives finite features: CA stands in for the counts and
    the ideal CB direction for the half spheres. (Cysteines keep theirs: burial-blosum's disulfide search
    is the part of backends/structure.py that still needs a CB.)"""
    coords = lysozyme.coords.copy()
    coords[[aa != "C" for aa in lysozyme.sequence], 3] = np.nan
    features = substitution_features(lysozyme.sequence, coords)
    assert features.shape == (len(lysozyme), 20, len(FEATURE_NAMES)) and np.isfinite(features).all()


def test_listed_loadable_and_named_in_results(lysozyme):
    rows = {row.name: row for row in model_list()}
    assert rows[LEARNED_SCORER_NAME].available and rows[LEARNED_SCORER_NAME].kind == "built-in"
    scorer = load_scorer(LEARNED_SCORER_NAME)
    assert isinstance(scorer, LearnedStructureScorer) and "not SaProt" in scorer.describe()
    result = scan_chain(lysozyme, scorer, use_cache=False)
    assert result.model_name == LEARNED_SCORER_NAME and "learned" in result.score_label
    assert result.model_sha256 == json.loads((MODEL_FOLDER / MANIFEST).read_text())["sha256"]


def test_damaged_trees_are_refused_with_one_clear_error(tmp_path):
    folder = tmp_path / "learned"
    shutil.copytree(MODEL_FOLDER, folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    path = folder / manifest["file"]
    path.write_text(path.read_text().replace('"baseline":', '"baseline": 1e3, "was":', 1))
    with pytest.raises(ModelError, match="SHA-256"):
        LearnedStructureScorer(folder=str(folder)).check()
    (folder / MANIFEST).unlink()
    with pytest.raises(ModelError, match="missing or unreadable"):
        LearnedStructureScorer(folder=str(folder)).check()


@pytest.mark.parametrize("model_args", [["--model", LEARNED_SCORER_NAME], []], ids=["named", "offline default"])
def test_cli_refuses_damaged_trees_in_one_line(tmp_path, monkeypatch, capsys, example_structure, model_args):
    """Named, or as part of the offline default structure-blend: damaged trees stop the scan in one line."""
    from saprot_scan.backends import learned
    from saprot_scan.cli import main

    monkeypatch.delenv("SAPROT_SCAN_MODEL", raising=False)

    folder = tmp_path / "learned"
    shutil.copytree(MODEL_FOLDER, folder)
    path = folder / json.loads((folder / MANIFEST).read_text())["file"]
    path.write_bytes(path.read_bytes()[:-10])
    monkeypatch.setattr(learned, "MODEL_FOLDER", folder)
    out = tmp_path / "scan.csv"
    assert main(["scan", str(example_structure), *model_args, "--csv", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("saprot-scan: error:") and "SHA-256" in err[0]
    assert not out.exists()


def test_ensemble_with_a_language_model(lysozyme, tiny_onnx_model):
    ensemble = load_scorer(f"{LEARNED_SCORER_NAME}+{tiny_onnx_model}", device="cpu")
    assert isinstance(ensemble, EnsembleScorer)
    combined = scan_chain(lysozyme, ensemble, use_cache=False)
    assert combined.model_name.startswith(LEARNED_SCORER_NAME + "+")
    known = np.isfinite(combined.scores)
    assert known.all()
    alone = scan_chain(lysozyme, LEARNED_SCORER_NAME, use_cache=False).scores
    assert np.corrcoef(alone.ravel(), combined.scores.ravel())[0, 1] > 0.3  # half of the mean is this scorer


def test_protocol_groups_proteins_and_the_shipped_table_is_consistent(manifest):
    """Leave-assay-out holds out whole proteins; the manifest's table covers the 26 shipped assays and its
    recorded means are the means of its rows."""
    with tarfile.open(recipe.ARCHIVE) as archive:
        assays = sorted(n.split("/")[-1][:-4] for n in archive.getnames() if n.startswith("dms_dev/assays/"))
    assert len(assays) == 26
    assert recipe.protein_of("PTEN_HUMAN_Mighell_2018") == recipe.protein_of("PTEN_HUMAN_Matreyek_2021")
    groups = {recipe.protein_of(a) for a in assays}
    assert len(groups) == 24  # PTEN_HUMAN and CP2C9_HUMAN have two assays each
    table = manifest["leave_assay_out"]
    assert sorted(table) == assays
    assert all(row["protein"] == recipe.protein_of(name) for name, row in table.items())
    noise = manifest["noise"]
    assert noise["mean_learned"] == pytest.approx(np.mean([r["learned"] for r in table.values()]))
    assert noise["mean_burial_blosum"] == pytest.approx(np.mean([r["burial-blosum"] for r in table.values()]))
    assert manifest["archive_sha256"] == hashlib.sha256(recipe.ARCHIVE.read_bytes()).hexdigest()


def test_rank_target_is_within_assay_and_bounded():
    target = recipe.rank_target(np.array([3.0, -1.0, 10.0, 3.0]))
    assert target.min() > -0.5 and target.max() < 0.5
    assert target[1] < target[0] == target[3] < target[2]
