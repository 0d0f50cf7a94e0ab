"""Issue 18, item 1: SaProt's graph built straight from the checkpoint (no torch) equals transformers'
EsmForMaskedLM, fp32 and fp16, on HF-default weights and on weights with large outlier channels; the weight
readers (safetensors, pickled zip) read what PyTorch wrote and run no pickled code; ``models import`` works
where torch and transformers cannot be imported at all."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support.data import structure

torch = pytest.importorskip("torch", reason="the reference is transformers' EsmForMaskedLM (test extra)")

DIMS = dict(num_hidden_layers=3, hidden_size=64, num_attention_heads=4, intermediate_size=128)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    from support.core_reference import add_outlier_channels, hf_default_checkpoint

    root = tmp_path_factory.mktemp("graph")
    outliers = hf_default_checkpoint(root / "outliers", DIMS, seed=2)
    add_outlier_channels(outliers)
    return {"hf-default": hf_default_checkpoint(root / "hf-default", DIMS, seed=1), "outliers": outliers}


def _batch():
    """A padded batch with masked sites (the token-dropout scale differs per sequence) and query rows."""
    from saprot_scan.encoding.tokens import MASK_ID
    from saprot_scan.models.export import sample_batch, sample_rows

    ids, mask = sample_batch(length=30, batch=4, seed=3)
    ids[0, [2, 11]] = MASK_ID
    ids[2, 5] = MASK_ID
    return ids, mask, sample_rows(mask, count=3, seed=4)


def _session(path):
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("precision", ["fp32", "fp16"])
@pytest.mark.parametrize("kind", ["hf-default", "outliers"])
def test_graph_equals_transformers(kind, precision, checkpoints, tmp_path):
    from saprot_scan.backends.feeding import pick_rows, run_logits
    from saprot_scan.models.checks import LIMITS, agreement, check_agreement
    from saprot_scan.models.esm_graph import build_model
    from support.core_reference import load_hf_model, torch_logits

    folder = checkpoints[kind]
    build_model(folder, tmp_path / "m.onnx", precision)
    ids, mask, rows = _batch()
    want = torch_logits(load_hf_model(folder), ids, mask)
    session = _session(tmp_path / "m.onnx")
    full, picked = run_logits(session, ids, mask), run_logits(session, ids, mask, rows)
    assert full.dtype == np.float32 and picked.shape == (4, 3, 446)
    real = mask.astype(bool)
    report = agreement(np.concatenate([want[real], pick_rows(want, rows).reshape(-1, 446)]),
                       np.concatenate([full[real], picked.reshape(-1, 446)]))
    print(kind, precision, report)
    if kind == "outliers" and precision == "fp16":
        # Residual streams of several hundred (as here) cost float16 precision in any implementation: held to
        # the score limit, and to be no further from fp32 than transformers' own float16 run.
        half = torch_logits(load_hf_model(folder).half(), ids, mask)
        assert report["max_abs_logit_diff"] <= np.abs(half[real] - want[real]).max()
        assert report["max_score_diff"] <= LIMITS["fp16"][1]
    else:
        check_agreement(report, precision)  # the scale-aware limits every export is held to
    if precision == "fp32" and kind == "hf-default":
        assert report["max_abs_logit_diff"] <= 1e-4
    np.testing.assert_array_equal(picked, pick_rows(full, rows))  # query rows: the same numbers, fewer rows


def test_export_check_uses_the_float64_reference(checkpoints):
    """The exporter's own check (no torch) sees what transformers sees: its reference equals EsmForMaskedLM."""
    from saprot_scan.models.checkpoint import read_checkpoint
    from saprot_scan.models.checks import agreement, check_agreement
    from saprot_scan.models.esm_graph import Weights, read_config
    from saprot_scan.models.reference import reference_logits
    from support.core_reference import load_hf_model, torch_logits

    for folder in checkpoints.values():
        ids, mask, _ = _batch()
        weights = Weights(read_checkpoint(folder), read_config(folder), folder.name)
        got = reference_logits(weights, ids, mask)
        want = torch_logits(load_hf_model(folder), ids, mask)
        real = mask.astype(bool)
        check_agreement(agreement(want[real], got[real]), "fp32")  # float32 rounding in transformers' run only


def test_weights_go_to_external_data_above_the_threshold(checkpoints, tmp_path, monkeypatch):
    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.models import esm_graph

    folder = checkpoints["hf-default"]
    inline = esm_graph.build_model(folder, tmp_path / "inline.onnx")
    monkeypatch.setattr(esm_graph, "EXTERNAL_DATA_THRESHOLD", 0)
    external = esm_graph.build_model(folder, tmp_path / "external.onnx", "fp16")
    assert not inline["external_data"] and external["external_data"]
    data = tmp_path / "external.onnx.data"
    assert data.stat().st_size >= external["weight_bytes"] > 10 * (tmp_path / "external.onnx").stat().st_size
    ids, mask, rows = _batch()
    half = run_logits(_session(tmp_path / "external.onnx"), ids, mask, rows)
    full = run_logits(_session(tmp_path / "inline.onnx"), ids, mask, rows)
    assert np.abs(half - full).max() < 0.05 * max(1.0, np.abs(full).max())


def test_the_int8_path_fuses_every_layer_but_the_query_rows_one(checkpoints, tmp_path):
    import onnx

    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.models.checks import agreement, check_agreement
    from saprot_scan.models.esm_graph import build_model
    from saprot_scan.models.fuse import fuse_attention

    build_model(checkpoints["outliers"], tmp_path / "m.onnx")
    model = onnx.load(str(tmp_path / "m.onnx"))
    assert fuse_attention(model) == DIMS["num_hidden_layers"] - 1
    onnx.save(model, str(tmp_path / "fused.onnx"))
    ids, mask, rows = _batch()
    for r in (rows, None):
        want = run_logits(_session(tmp_path / "m.onnx"), ids, mask, r)
        got = run_logits(_session(tmp_path / "fused.onnx"), ids, mask, r)
        check_agreement(agreement(want.reshape(-1, 446), got.reshape(-1, 446)), "fp32")


def test_readers_give_what_pytorch_wrote(tmp_path):
    """bfloat16, half, integer, tied (shared storage) and strided views, from both formats."""
    from safetensors.torch import save_file

    from saprot_scan.models.checkpoint import read_safetensors, read_torch_zip

    shared = torch.randn(10, 4)
    state = {"a": torch.randn(3, 5), "bf16": torch.randn(4, 6).to(torch.bfloat16), "ints": torch.arange(7),
             "half": torch.randn(2, 2).half(), "emb": shared, "tied": shared, "view": torch.randn(6, 4)[:, 1:3],
             "transposed": torch.randn(3, 4).t()}
    torch.save(state, tmp_path / "pytorch_model.bin")
    save_file({k: v.contiguous() for k, v in state.items() if k != "tied"}, str(tmp_path / "model.safetensors"))
    for read in (read_torch_zip(tmp_path / "pytorch_model.bin"), read_safetensors(tmp_path / "model.safetensors")):
        for key, tensor in state.items():
            if key in read:
                np.testing.assert_array_equal(read[key].numpy(), tensor.float().numpy() if key == "bf16"
                                              else tensor.numpy())
    assert set(read_torch_zip(tmp_path / "pytorch_model.bin")) == set(state)


class _Planted:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_naming_anything_but_tensors_is_refused_unrun(tmp_path):
    from saprot_scan.errors import ModelError
    from saprot_scan.models.checkpoint import read_torch_zip

    marker = tmp_path / "code-was-run"
    torch.save({"weight": torch.ones(2), "payload": _Planted(marker)}, tmp_path / "evil.bin")
    with pytest.raises(ModelError, match="refused to load .*: a weights file holds only tensors"):
        read_torch_zip(tmp_path / "evil.bin")
    assert not marker.exists()
    (tmp_path / "junk.bin").write_bytes(b"\x80\x02junk")
    with pytest.raises(ModelError, match="pre-1.6 format"):
        read_torch_zip(tmp_path / "junk.bin")


def test_models_import_runs_where_torch_cannot_be_imported(checkpoints, tmp_path):
    """``models import`` with fp16 and int8 copies, then a scan, with torch/transformers/safetensors unimportable
    (an import hook refuses them, as a venv with only core[fetch] would); the cached fp32 model scores like
    transformers (the checkpoint's own logits, compared in test_graph_equals_transformers)."""
    from support.no_torch import run_without_torch

    def run(*args):
        return run_without_torch(args, tmp_path / "cache", SAPROT_SCAN_THREADS="1")

    proc = run("models", "import", checkpoints["hf-default"], "--name", "saprot-35m", "--any-shape", "--fp16", "--int8")
    assert proc.returncode == 0, proc.stderr
    for stage in ("building the fp32 graph", "writing fp32 weights", "building the fp16 graph", "check passed"):
        assert stage in proc.stderr, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    folder = tmp_path / "cache" / "models" / "saprot-35m"
    assert {"saprot-35m.onnx", "saprot-35m-fp16.onnx", "saprot-35m.int8.onnx"} <= {p.name for p in folder.iterdir()}
    info = run("models", "info", "saprot-35m", "--precision", "fp16")
    assert info.returncode == 0 and "precision\tfp16" in info.stdout, info.stderr
    assert "used on\tCUDA (chosen automatically; not run on the CPU)" in info.stdout
    for precision in ("fp32", "int8"):
        scan = run("scan", structure("1aki"), "--model", "saprot-35m", "--precision", precision, "--method", "wt",
                   "--residues", "1-3")
        assert scan.returncode == 0 and len(scan.stdout.splitlines()) == 1 + 3 * 19, scan.stderr


def test_int8_copy_of_a_model_with_external_weights(checkpoints, tmp_path, monkeypatch):
    """As for SaProt 650M: the fp32 weights live in ``.onnx.data``; the int8 copy fuses the graph without
    loading them and passes the same score check."""
    from saprot_scan.models import esm_graph
    from saprot_scan.models.quantize import quantize_int8

    monkeypatch.setattr(esm_graph, "EXTERNAL_DATA_THRESHOLD", 0)
    esm_graph.build_model(checkpoints["hf-default"], tmp_path / "m.onnx")
    report = quantize_int8(tmp_path / "m.onnx")
    assert report["fused_layers"] == DIMS["num_hidden_layers"] - 1
    assert report["agreement"].mean_spearman >= 0.99
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.int8.onnx", "m.onnx", "m.onnx.data"]
