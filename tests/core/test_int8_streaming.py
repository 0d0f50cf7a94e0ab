"""Issue 25, item 2: the int8 copy is written one weight tensor at a time. It computes exactly what
onnxruntime's quantize_dynamic made before (same logits), keeps external weights external, and its memory
stays far below the fp32 weights it reads (measured as the peak resident memory of a real process)."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnx", reason="the int8 copy is written with onnx")

#: Large enough that a tool loading the weights shows in the process's peak memory (~180 MB of fp32 weights).
WIDE = dict(num_hidden_layers=6, hidden_size=768, num_attention_heads=12, intermediate_size=3072)


@pytest.fixture(scope="module")
def external_fp32(tmp_path_factory, tiny_hf_checkpoint):
    """The test checkpoint exported with its fp32 weights in ``m.onnx.data`` (as 650M's are)."""
    from saprot_scan.models import esm_graph

    folder = tmp_path_factory.mktemp("external")
    threshold, esm_graph.EXTERNAL_DATA_THRESHOLD = esm_graph.EXTERNAL_DATA_THRESHOLD, 0
    try:
        esm_graph.build_model(tiny_hf_checkpoint, folder / "m.onnx")
    finally:
        esm_graph.EXTERNAL_DATA_THRESHOLD = threshold
    return folder / "m.onnx"


def _logits(path) -> np.ndarray:
    import onnxruntime as ort

    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.models.export import sample_batch, sample_rows

    ids, mask = sample_batch(length=40, batch=3, seed=5)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.concatenate([run_logits(session, ids, mask).reshape(-1, 446),
                           run_logits(session, ids, mask, sample_rows(mask, 2, 6)).reshape(-1, 446)])


def test_streamed_copy_equals_onnxruntime_quantizer(external_fp32, tmp_path, monkeypatch):
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from saprot_scan.backends.copies import read_metadata
    from saprot_scan.models import quantize
    from saprot_scan.models.fuse import fuse_attention

    monkeypatch.setattr(quantize, "EXTERNAL_DATA_THRESHOLD", 0)  # the int8 weights go external too
    report = quantize.quantize_int8(external_fp32, tmp_path / "m.int8.onnx", threads=1)
    assert report["external_data"] and report["agreement"].mean_spearman >= 0.99
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.int8.onnx", "m.int8.onnx.data"]
    assert read_metadata(tmp_path / "m.int8.onnx")["saprot_scan.precision"] == "int8"

    # The reference: what quantize_int8 ran before issue 25, on the same fused graph.
    model = onnx.load(str(external_fp32))
    fuse_attention(model)
    onnx.save(model, str(tmp_path / "fused.onnx"))
    quantize_dynamic(str(tmp_path / "fused.onnx"), str(tmp_path / "reference.onnx"), op_types_to_quantize=["MatMul"],
                     nodes_to_quantize=quantize._weight_matmuls(model), per_channel=True, reduce_range=True,
                     weight_type=QuantType.QInt8, extra_options={"MatMulConstBOnly": True})
    want, got = _logits(tmp_path / "reference.onnx"), _logits(tmp_path / "m.int8.onnx")
    assert np.abs(want - got).max() <= 1e-5 * np.abs(want).max()


def test_weight_columns_quantize_like_onnxruntime():
    from onnxruntime.quantization.quant_utils import quantize_data
    from onnx import TensorProto

    from saprot_scan.models.int8_graph import quantize_columns

    rng = np.random.default_rng(0)
    weight = rng.normal(size=(48, 5)).astype(np.float32) * np.array([1, 0.01, 30, 2, 0], dtype=np.float32)
    quantized, scale, zero = quantize_columns(weight)
    for column in range(5):
        want_zero, want_scale, want_q = quantize_data(weight[:, column], TensorProto.INT8, True, reduce_range=True)
        assert np.array_equal(quantized[:, column], want_q) and np.isclose(scale[column], want_scale)
        assert zero[column] == want_zero == 0


PEAK_SCRIPT = """
import json, sys
import onnx, onnxruntime  # imported before the baseline: the same for every tool
from saprot_scan.models import quantize
quantize.EXTERNAL_DATA_THRESHOLD = 0  # int8 weights external, as 650M's are

def peak_kb():  # this process's own high-water mark (ru_maxrss would include the parent's, across exec)
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])

before = peak_kb()
quantize.quantize_int8(sys.argv[1], check=False)
print(json.dumps({"grew_kb": peak_kb() - before}))
"""


def test_quantizing_does_not_load_the_weights(tmp_path):
    """The process's peak grows by far less than the fp32 weights (quantize_dynamic: several copies)."""
    from saprot_scan.models import esm_graph
    from saprot_scan.models.architectures import random_checkpoint

    random_checkpoint(tmp_path / "wide", WIDE, seed=4)
    fp32 = tmp_path / "wide.onnx"
    threshold, esm_graph.EXTERNAL_DATA_THRESHOLD = esm_graph.EXTERNAL_DATA_THRESHOLD, 0
    try:
        built = esm_graph.build_model(tmp_path / "wide", fp32)
    finally:
        esm_graph.EXTERNAL_DATA_THRESHOLD = threshold
    proc = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(fp32)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    grew = json.loads(proc.stdout.strip().splitlines()[-1])["grew_kb"] * 1024
    assert (tmp_path / "wide.int8.onnx").is_file()
    print(f"peak grew {grew / 1e6:.0f} MB for {built['weight_bytes'] / 1e6:.0f} MB")
    assert grew < 0.25 * built["weight_bytes"], f"peak grew {grew / 1e6:.0f} MB for {built['weight_bytes'] / 1e6:.0f} MB"
