"""The CPU speed variants: the int8 copy, how the runtime chooses it, and the out-of-memory retry.

All on real onnxruntime sessions over the real test model; the memory limit in the retry test is a
real onnxruntime arena limit, so the error handled is the one onnxruntime actually raises.
"""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest

from saprot_scan.scoring.agreement import compare_scores, per_position_spearman
from saprot_scan.backends.cuda import BatchRunner, batch_for_memory, is_out_of_memory, provider_available
from saprot_scan.errors import ModelError
from saprot_scan.backends.feeding import run_logits
from saprot_scan.backends.onnx import load_model_file, resolve_device

pytestmark = pytest.mark.slow  # int8 copies, exports or the full default model: minutes on 2 cores

pytest.importorskip("onnx", reason="the int8 copy is made with onnx and onnxruntime.quantization")


@pytest.fixture(scope="module")
def model_pair(tiny_onnx_model, tmp_path_factory):
    """A private copy of the test model with its int8 copy beside it."""
    from saprot_scan.models.quantize import quantize_int8

    folder = tmp_path_factory.mktemp("int8")
    fp32 = folder / "tiny.onnx"
    shutil.copy(tiny_onnx_model, fp32)
    report = quantize_int8(fp32, threads=1)
    return fp32, folder / "tiny.int8.onnx", report


@pytest.fixture(scope="module")
def example_chain(example_structure):
    from saprot_scan.encoding.structure import read_structure

    return read_structure(example_structure)[0]


def test_spearman_matches_its_definition():
    wt = "A" * 3
    up = np.tile(np.arange(20.0), (3, 1))
    rho = per_position_spearman(up, up ** 3, wt)  # monotone transform: identical ranks
    assert np.allclose(rho, 1.0)
    assert np.allclose(per_position_spearman(up, -up, wt), -1.0)
    tied = up.copy()
    tied[:, 5:8] = 6.0  # ties get mean ranks: still a perfect monotone relation with itself
    assert np.allclose(per_position_spearman(tied, tied, wt), 1.0)
    assert np.isnan(per_position_spearman(up, up, "AXA")[1])


def test_int8_copy_passes_its_check_and_records_it(model_pair):
    from saprot_scan.backends.copies import read_metadata
    from saprot_scan.models.hashing import sha256_file

    fp32, int8, report = model_pair
    assert report["agreement"].passes(0.99), report["agreement"].line()
    meta = read_metadata(int8)
    assert meta["saprot_scan.precision"] == "int8"
    assert meta["saprot_scan.parent_sha256"] == sha256_file(fp32)
    assert float(meta["saprot_scan.check_spearman_mean"]) >= 0.99
    # Both layers but the last, whose queries sit only at the picked rows (left unfused, exact).
    assert report["fused_layers"] == 1 and meta["saprot_scan.fused_attention_layers"] == "1"


def test_int8_scan_of_a_real_structure_ranks_like_fp32(model_pair, example_chain):
    from saprot_scan.pipeline import scan_chain

    fp32, _, _ = model_pair
    ref = scan_chain(example_chain, load_model_file(fp32, precision="fp32"), use_cache=False)
    fast = scan_chain(example_chain, load_model_file(fp32, precision="int8"), use_cache=False)
    agreement = compare_scores(ref.scores, fast.scores, ref.wt)
    assert agreement.mean_spearman >= 0.99, agreement.line()
    assert agreement.positions == len(example_chain.sequence) - example_chain.sequence.count("X")


def test_auto_precision_on_cpu_uses_the_checked_int8_copy(model_pair):
    fp32, int8, _ = model_pair
    model = load_model_file(fp32, device="cpu")
    assert (model.precision, model.path, model.device) == ("int8", int8, "cpu")
    assert "int8 on CPU" in model.describe()
    assert load_model_file(fp32, device="cpu", precision="fp32").precision == "fp32"


def test_env_variable_forces_fp32(model_pair, monkeypatch):
    fp32, _, _ = model_pair
    monkeypatch.setenv("SAPROT_SCAN_PRECISION", "fp32")
    assert load_model_file(fp32, device="cpu").precision == "fp32"


def test_int8_copy_of_another_model_is_not_used(model_pair, tmp_path):
    import onnx

    fp32, int8, _ = model_pair
    shutil.copy(fp32, tmp_path / "tiny.onnx")
    foreign = onnx.load(str(int8))
    for prop in foreign.metadata_props:
        if prop.key == "saprot_scan.parent_sha256":
            prop.value = "0" * 64
    onnx.save(foreign, str(tmp_path / "tiny.int8.onnx"))
    assert load_model_file(tmp_path / "tiny.onnx", device="cpu").precision == "fp32"
    with pytest.raises(ModelError, match="different fp32 file"):
        load_model_file(tmp_path / "tiny.onnx", device="cpu", precision="int8")


def test_missing_int8_copy_explicitly_requested_says_how_to_make_one(tiny_onnx_model, tmp_path):
    shutil.copy(tiny_onnx_model, tmp_path / "lonely.onnx")
    with pytest.raises(ModelError, match="saprot-scan models quantize"):
        load_model_file(tmp_path / "lonely.onnx", device="cpu", precision="int8")


def test_rejected_int8_copy_leaves_nothing_behind(tiny_onnx_model, tmp_path):
    from saprot_scan.models.quantize import quantize_int8

    shutil.copy(tiny_onnx_model, tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="rejected"):
        quantize_int8(tmp_path / "m.onnx", min_spearman=1.01, threads=1)  # no copy can pass this
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_quantize_cli_reports_agreement(model_pair, tmp_path, capsys):
    from saprot_scan.models.quantize import main

    fp32, _, _ = model_pair
    assert main([str(fp32), str(tmp_path / "again.int8.onnx")]) == 0
    assert "per-position Spearman mean" in capsys.readouterr().out
    assert main([str(tmp_path / "missing.onnx")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.skipif(provider_available(),
                    reason="this onnxruntime has CUDA; the no-GPU fallback is not reachable here")
def test_auto_device_without_cuda_is_cpu_without_a_warning(tiny_onnx_model):
    assert resolve_device("auto") == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_model_file(tiny_onnx_model, device="auto", precision="fp32")
    assert model.device == "cpu" and model.runner is None


def test_out_of_memory_halves_the_batch_and_gives_the_same_logits(tiny_onnx_model):
    """A real onnxruntime arena limit (the CPU twin of the CUDA provider's gpu_mem_limit)."""
    import onnxruntime as ort

    info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    ort.create_and_register_allocator(info, ort.OrtArenaCfg({"max_mem": 160 * 1024 * 1024,
                                                             "arena_extend_strategy": 1}))
    options = ort.SessionOptions()
    options.add_session_config_entry("session.use_env_allocators", "1")
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    limited = ort.InferenceSession(str(tiny_onnx_model), options, providers=["CPUExecutionProvider"])
    ids = np.random.default_rng(0).integers(5, 446, size=(64, 400))
    ids[:, 0], ids[:, -1] = 0, 2
    mask = np.ones_like(ids)
    with pytest.raises(Exception) as err:
        run_logits(limited, ids, mask)
    assert is_out_of_memory(err.value)

    plain = ort.InferenceSession(str(tiny_onnx_model), providers=["CPUExecutionProvider"])
    rows = np.arange(64, dtype=np.int64)[:, None] % 398 + 1  # one picked row per sequence, as in a scan
    for picked in (None, rows):
        runner = BatchRunner(lambda i, m, r: run_logits(limited, i, m, r))
        got = runner(ids, mask, picked)
        assert runner.retries >= 1 and runner.max_batch < 64
        assert np.array_equal(got, run_logits(plain, ids, mask, picked))


def test_errors_that_are_not_out_of_memory_are_not_retried(tiny_onnx_model):
    import onnxruntime as ort

    session = ort.InferenceSession(str(tiny_onnx_model), providers=["CPUExecutionProvider"])
    runner = BatchRunner(lambda i, m, r: run_logits(session, i, m, r))
    bad = np.full((4, 10), 10_000)  # token ids beyond the vocabulary: a real onnxruntime error, not memory
    with pytest.raises(Exception) as err:
        runner(bad, np.ones_like(bad))
    assert not is_out_of_memory(err.value) and runner.retries == 0


def test_gpu_batch_shrinks_with_length_and_memory():
    big = 2_600_000_000
    assert batch_for_memory(302, 70 * 2**30, big) >= batch_for_memory(1002, 70 * 2**30, big) >= 1
    assert batch_for_memory(1002, 2**30, big) < batch_for_memory(1002, 70 * 2**30, big)
    assert batch_for_memory(302, 1, big) == 1


def test_fused_attention_gives_the_same_logits_padded_or_not(tiny_onnx_model, tmp_path):
    import onnx
    import onnxruntime as ort

    from saprot_scan.models.export import sample_batch, sample_rows
    from saprot_scan.models.fuse import fuse_attention
    from saprot_scan.backends.feeding import run_logits

    model = onnx.load(str(tiny_onnx_model))
    assert fuse_attention(model) == 1  # the first layer; the last one's queries sit at picked rows
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Softmax") == 1 and {"If", "RotaryEmbedding"} <= set(ops)
    onnx.save(model, str(tmp_path / "fused.onnx"))
    plain = ort.InferenceSession(str(tiny_onnx_model), providers=["CPUExecutionProvider"])
    fused = ort.InferenceSession(str(tmp_path / "fused.onnx"), providers=["CPUExecutionProvider"])
    padded_ids, padded_mask = sample_batch(30, 3)
    full_ids, full_mask = padded_ids[:, :12].copy(), np.ones((3, 12), dtype=np.int64)
    for ids, mask in ((padded_ids, padded_mask), (full_ids, full_mask)):
        want, got = run_logits(plain, ids, mask), run_logits(fused, ids, mask)
        real = mask.astype(bool)
        assert np.abs(want[real] - got[real]).max() < 1e-4
        rows = sample_rows(mask, count=2, seed=5)
        assert np.abs(run_logits(plain, ids, mask, rows) - run_logits(fused, ids, mask, rows)).max() < 1e-4


def test_fusion_leaves_an_unrecognised_graph_alone(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from saprot_scan.models.fuse import fuse_attention

    node = helper.make_node("Softmax", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph)
    before = model.SerializeToString()
    assert fuse_attention(model) == 0
    assert model.SerializeToString() == before
    onnx.checker.check_model(model)


def test_cache_manifest_names_the_fp16_copy(tiny_onnx_model, tmp_path):
    import json

    from saprot_scan.backends.onnx import find_copy

    shutil.copy(tiny_onnx_model, tmp_path / "saprot-35m.onnx")
    shutil.copy(tiny_onnx_model, tmp_path / "saprot-35m-fp16.onnx")
    (tmp_path / "manifest.json").write_text(json.dumps({"onnx": "saprot-35m.onnx", "onnx_fp16": "saprot-35m-fp16.onnx"}))
    assert find_copy(tmp_path / "saprot-35m.onnx", "fp16") == tmp_path / "saprot-35m-fp16.onnx"
    assert find_copy(tmp_path / "saprot-35m.onnx", "int8") is None


def test_load_model_by_env_path_uses_the_int8_copy(model_pair, monkeypatch):
    from saprot_scan.backends.onnx import load_model

    fp32, int8, _ = model_pair
    monkeypatch.setenv("SAPROT_SCAN_MODEL", str(fp32))
    model = load_model(device="cpu")
    assert model.precision == "int8" and model.path == int8
