"""The embedded default model is checked like any model: right file, same logits as its checkpoint, not random.

Issue 5, item 5. Everything runs on the shipped files with onnxruntime (and PyTorch for the logit match);
nothing is retrained here.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO / "models" / "default"
sys.path.insert(0, str(REPO))  # the training recipe lives in models/training (not an installed package)

from models.training.baselines import FrequencyBaselines  # noqa: E402
from models.training.data import load_scope40, split_by_fold  # noqa: E402
from models.training.evaluate import choose_sites, model_probabilities, score  # noqa: E402
from models.training.masking import IGNORE_INDEX, hide_amino_acids, saprot_mask  # noqa: E402
from models.training.onnx_eval import onnx_logits_fn, onnx_session  # noqa: E402

pytestmark = pytest.mark.slow  # int8 copies, exports or the full default model: minutes on 2 cores


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((DEFAULT_DIR / "model.json").read_text())


@pytest.fixture(scope="module")
def onnx_path(manifest) -> Path:
    return DEFAULT_DIR / manifest["file"]


@pytest.fixture(scope="module")
def fold_split(test_data, manifest):
    return split_by_fold(load_scope40(test_data), seed=manifest["training"]["config"]["split_seed"])


def test_manifest_hash_and_size_match_the_shipped_file(manifest, onnx_path):
    from saprot_scan.models.hashing import sha256_file

    assert manifest["name"] == "saprot-scan-default"
    assert sha256_file(onnx_path) == manifest["sha256"]
    assert onnx_path.stat().st_size == manifest["size_bytes"] < 20 * 1024 * 1024


def test_registry_resolves_the_embedded_default(manifest, onnx_path):
    from saprot_scan.models.registry import embedded_model

    ref = embedded_model()
    assert ref is not None
    assert ref.path.resolve() == onnx_path.resolve()
    assert ref.sha256 == manifest["sha256"]


def test_onnx_logits_match_the_pytorch_checkpoint(onnx_path, fold_split):
    torch = pytest.importorskip("torch", reason="comparing with the checkpoint needs torch (test extra)")
    transformers = pytest.importorskip("transformers", reason="needs transformers (test extra)")
    model = transformers.EsmForMaskedLM.from_pretrained(DEFAULT_DIR / "checkpoint").eval()
    # Three held-out domains of different lengths in one padded batch, some sites hidden as in a scan.
    chains = [d.token_ids() for d in fold_split.test[:3]]
    width = max(ids.size for ids in chains)
    ids = np.ones((len(chains), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, chain in enumerate(chains):
        chain = chain.copy()
        chain[1::7] = hide_amino_acids(chain[1::7])
        chain[-1] = 2
        ids[row, :chain.size], mask[row, :chain.size] = chain, 1
    got = onnx_logits_fn(onnx_session(onnx_path))(ids, mask)
    with torch.no_grad():
        want = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits.numpy()
    real = mask.astype(bool)
    assert np.abs(got[real] - want[real]).max() < 1e-4


def test_beats_the_3di_conditioned_frequency_baseline_on_held_out_folds(manifest, onnx_path, fold_split):
    baselines = FrequencyBaselines.fit(fold_split.train)
    sites = choose_sites(fold_split.test)
    site_ids = np.concatenate([ids[s] for ids, s in zip(sites.ids, sites.sites)])
    baseline = score(baselines.probabilities(site_ids, conditioned=True), sites.truth)
    model = score(model_probabilities(onnx_logits_fn(onnx_session(onnx_path)), sites), sites.truth)
    assert model["sites"] == baseline["sites"] > 10_000
    # Margins well beyond sampling noise (about 0.002 in accuracy at this many sites).
    assert model["accuracy"] > baseline["accuracy"] + 0.008
    assert model["perplexity"] < baseline["perplexity"] - 0.4
    # The numbers in the model card are the ones this check reproduces.
    recorded = manifest["onnx"]["test_folds"]
    assert model["accuracy"] == pytest.approx(recorded["model"]["accuracy"], abs=2e-3)
    assert baseline["accuracy"] == pytest.approx(recorded["aa_given_3di_frequency"]["accuracy"], abs=1e-4)


def test_held_out_folds_share_no_fold_with_training(fold_split):
    train = {d.fold for d in fold_split.train}
    assert not train & set(fold_split.val_folds)
    assert not train & set(fold_split.test_folds)
    assert not set(fold_split.val_folds) & set(fold_split.test_folds)
    assert len(fold_split.test) > 500 and len(fold_split.val) > 500


def test_training_masks_exactly_as_saprot_does(fold_split):
    """15% of residues selected (at least one), labels = full token, 80% '#'+3Di / 10% random / 10% kept."""
    rng = np.random.default_rng(0)
    selected = hidden = kept = residues = 0
    for domain in fold_split.train[:1500]:
        ids = domain.token_ids()
        inputs, labels = saprot_mask(ids, rng)
        chosen = labels != IGNORE_INDEX
        assert chosen.sum() >= 1
        assert (labels[chosen] == ids[chosen]).all()
        assert (inputs[~chosen] == ids[~chosen]).all()
        is_hidden = inputs[chosen] == hide_amino_acids(ids[chosen])
        selected += int(chosen.sum())
        hidden += int(is_hidden.sum())
        kept += int((inputs[chosen] == ids[chosen]).sum())
        residues += ids.size - 2
    assert selected / residues == pytest.approx(0.15, abs=0.005)
    assert hidden / selected == pytest.approx(0.80, abs=0.01)
    assert kept / selected == pytest.approx(0.10, abs=0.01)  # plus the rare random token equal to the original
