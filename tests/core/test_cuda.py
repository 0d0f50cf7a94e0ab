"""The CUDA path: fp16 on the GPU ranks substitutions like fp32 on the CPU; out-of-memory retries work.

Runs only where onnxruntime-gpu is installed and a CUDA device starts (``make install-gpu``);
everywhere else every test here is skipped with the reason.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from saprot_scan.backends import cuda

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not cuda.provider_available(),
                                reason="no CUDA: onnxruntime here lacks CUDAExecutionProvider (make install-gpu on "
                                       "a machine with an NVIDIA GPU)")]


@pytest.fixture(scope="module")
def gpu_session_ok(tiny_onnx_model):
    """Skip (with the provider's own words) when the provider is installed but no GPU starts."""
    from saprot_scan.errors import InputError
    from saprot_scan.backends.onnx import open_session

    try:
        _, used = open_session(tiny_onnx_model, "cuda")
    except InputError as err:
        pytest.skip(f"CUDA provider installed but unusable: {err}")
    assert used == "cuda"
    return True


@pytest.fixture(scope="module")
def tiny_pair(tiny_onnx_model, tiny_hf_checkpoint, tmp_path_factory):
    """The test model's fp32 export with an fp16 export beside it (as ``models fetch --fp16`` leaves them)."""
    from saprot_scan.models.export import export_onnx

    folder = tmp_path_factory.mktemp("fp16")
    shutil.copy(tiny_onnx_model, folder / "tiny.onnx")
    export_onnx(tiny_hf_checkpoint, folder / "tiny.fp16.onnx", fp16=True)
    return folder / "tiny.onnx", folder / "tiny.fp16.onnx"


@pytest.fixture(scope="module")
def example_chain(example_structure):
    from saprot_scan.encoding.structure import read_structure

    return read_structure(example_structure)[0]


def _agreement(fp32_path, gpu_model, chain):
    from saprot_scan.scoring.agreement import compare_scores
    from saprot_scan.pipeline import scan_chain
    from saprot_scan.backends.onnx import load_model_file

    cpu = scan_chain(chain, load_model_file(fp32_path, device="cpu", precision="fp32"), use_cache=False)
    gpu = scan_chain(chain, gpu_model, use_cache=False)
    return compare_scores(cpu.scores, gpu.scores, cpu.wt)


def test_auto_device_picks_cuda_and_the_fp16_copy(gpu_session_ok, tiny_pair):
    from saprot_scan.backends.onnx import load_model_file

    fp32, fp16 = tiny_pair
    model = load_model_file(fp32, device="auto")
    assert (model.device, model.precision, model.path) == ("cuda", "fp16", fp16)
    assert "fp16 on CUDA" in model.describe()


def test_fp16_gpu_scores_rank_like_fp32_cpu(gpu_session_ok, tiny_pair, example_chain):
    from saprot_scan.backends.onnx import load_model_file

    fp32, _ = tiny_pair
    agreement = _agreement(fp32, load_model_file(fp32, device="cuda"), example_chain)
    print("tiny fp16 CUDA vs fp32 CPU:", agreement.line())
    assert agreement.mean_spearman >= 0.99, agreement.line()


def test_embedded_default_fp16_on_gpu_ranks_like_fp32_cpu(gpu_session_ok, example_chain, tmp_path):
    from saprot_scan.models.export import export_onnx
    from saprot_scan.models.registry import embedded_model
    from saprot_scan.backends.onnx import load_model_file

    ref = embedded_model()
    if ref is None:
        pytest.skip("the embedded default model is not built in this checkout")
    checkpoint = ref.path.parent / "checkpoint"
    if not (checkpoint / "config.json").is_file():
        pytest.skip("the embedded default's checkpoint folder (needed for an fp16 export) is absent")
    shutil.copy(ref.path, tmp_path / "default.onnx")
    export_onnx(checkpoint, tmp_path / "default.fp16.onnx", fp16=True)
    gpu = load_model_file(tmp_path / "default.onnx", device="cuda", precision="fp16")
    agreement = _agreement(tmp_path / "default.onnx", gpu, example_chain)
    print("default fp16 CUDA vs fp32 CPU:", agreement.line())
    assert agreement.mean_spearman >= 0.99, agreement.line()


def test_io_binding_matches_a_plain_run(gpu_session_ok, tiny_onnx_model):
    from saprot_scan.models.export import sample_batch, sample_rows
    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.backends.onnx import open_session

    session, _ = open_session(tiny_onnx_model, "cuda")
    ids, mask = sample_batch(40, 3)
    bound = cuda.iobinding_runner(session)(ids, mask)
    plain = run_logits(session, ids, mask)
    assert np.abs(bound - plain).max() < 1e-4
    rows = sample_rows(mask, count=2)
    assert np.abs(cuda.iobinding_runner(session)(ids, mask, rows) - run_logits(session, ids, mask, rows)).max() < 1e-4


def test_out_of_memory_on_the_gpu_halves_the_batch(gpu_session_ok, tiny_onnx_model):
    from saprot_scan.backends.feeding import run_logits
    from saprot_scan.backends.onnx import open_session

    session, _ = open_session(tiny_onnx_model, "cuda", gpu_mem_limit=96 * 1024 * 1024)
    ids = np.random.default_rng(0).integers(5, 446, size=(256, 600))
    ids[:, 0], ids[:, -1] = 0, 2
    mask = np.ones_like(ids)
    runner = cuda.BatchRunner(cuda.iobinding_runner(session))
    got = runner(ids, mask)
    assert runner.retries >= 1 and runner.max_batch < 256
    cpu, _ = open_session(tiny_onnx_model, "cpu")
    want = run_logits(cpu, ids[:8], mask[:8])
    assert np.abs(got[:8] - want).max() < 1e-3


def test_gpu_batch_size_comes_from_free_memory(gpu_session_ok, tiny_onnx_model):
    from saprot_scan.backends.onnx import load_model_file

    free = cuda.free_memory_bytes()
    assert free is None or free > 0
    model = load_model_file(tiny_onnx_model, device="cuda", precision="fp32")
    assert 1 <= model.default_batch_size(302) <= cuda.MAX_GPU_BATCH
