"""The CUDA path: provider options, batches sized from free GPU memory, I/O binding, out-of-memory retries.

Needs the ``gpu`` extra (onnxruntime-gpu, which replaces the CPU ``onnxruntime`` package). Everything
here degrades to "no CUDA": the runtime then scores on the CPU and says so once.
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import warnings
from typing import Callable

import numpy as np

from saprot_scan.backends.feeding import LOGITS
from saprot_scan.errors import ModelError

PROVIDER = "CUDAExecutionProvider"
MAX_GPU_BATCH = 128
_OOM_MARKERS = ("out of memory", "failed to allocate memory", "cudaerrormemoryallocation",
                "available memory of", "cublas_status_alloc_failed")
_warned = False


def provider_available() -> bool:
    """Whether this onnxruntime was built with CUDA (the onnxruntime-gpu package is installed)."""
    import onnxruntime as ort

    return PROVIDER in ort.get_available_providers()


def preload_libraries() -> None:
    """Let onnxruntime-gpu find CUDA/cuDNN installed as pip packages (its ``[cuda,cudnn]`` extras);
    harmless where they come from the system instead."""
    import onnxruntime as ort

    if hasattr(ort, "preload_dlls"):
        try:
            ort.preload_dlls()
        except Exception:  # a missing library shows up as a provider failure, with its own message
            pass


def provider_options(device_id: int = 0, mem_limit_bytes: int | None = None) -> dict[str, str]:
    """CUDA provider settings: grow the arena only as needed (so a smaller retry fits), copy in the
    compute stream, heuristic algorithm search (no slow exhaustive tuning on first run)."""
    options = {"device_id": str(device_id), "arena_extend_strategy": "kSameAsRequested",
               "do_copy_in_default_stream": "1", "cudnn_conv_algo_search": "HEURISTIC"}
    if mem_limit_bytes:
        options["gpu_mem_limit"] = str(int(mem_limit_bytes))
    return options


def warn_fallback(reason: str) -> None:
    """The one warning a user gets when a CUDA setup exists but cannot be used."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(f"CUDA unusable ({reason}); scoring on the CPU", RuntimeWarning, stacklevel=3)


def is_out_of_memory(err: BaseException) -> bool:
    """onnxruntime reports allocation failures as generic runtime errors; recognise them by message."""
    text = str(err).lower()
    return any(marker in text for marker in _OOM_MARKERS)


def free_memory_bytes(device_id: int = 0) -> int | None:
    """Free memory on the GPU, from the CUDA runtime if it can be loaded, else from nvidia-smi."""
    for lib in ("libcudart.so", "libcudart.so.13", "libcudart.so.12"):
        try:
            cudart = ctypes.CDLL(lib)
        except OSError:
            continue
        free, total = ctypes.c_size_t(), ctypes.c_size_t()
        if cudart.cudaSetDevice(device_id) == 0 and cudart.cudaMemGetInfo(ctypes.byref(free), ctypes.byref(total)) == 0:
            return int(free.value)
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "--query-gpu=memory.free", "--format=csv,noheader,nounits", "-i", str(device_id)],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
            return int(float(out.strip().splitlines()[0])) * 1024 * 1024
        except (OSError, subprocess.SubprocessError, ValueError, IndexError):
            return None
    return None


def bytes_per_sequence(tokens: int, model_bytes: int) -> int:
    """Rough peak activation memory of one sequence: hidden states and MLP at the model's width, plus the
    fp32 attention scores of all heads (ESM runs eager attention). Both SaProt sizes have 20 heads."""
    hidden, inter = (1280, 5120) if model_bytes > 400_000_000 else (480, 1920)
    per_token = (8 * hidden + 2 * inter) * 4 + 2 * 446 * 4
    return tokens * per_token + 3 * 20 * tokens * tokens * 4


def batch_for_memory(tokens: int, free_bytes: int | None, model_bytes: int, cap: int = MAX_GPU_BATCH) -> int:
    """Sequences per run that fit in half the free memory (the rest is headroom for the arena)."""
    if not free_bytes:
        return 8
    return int(max(1, min(cap, (free_bytes // 2) // bytes_per_sequence(tokens, model_bytes))))


class BatchRunner:
    """Runs a batch through ``run_batch``; on out-of-memory halves the batch, retries, and remembers the
    largest size that worked so later batches start there. Gives up with one clear line at size 1."""

    def __init__(self, run_batch: Callable[..., np.ndarray], max_batch: int | None = None):
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.retries = 0

    def __call__(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        size = len(ids) if self.max_batch is None else max(1, min(len(ids), self.max_batch))
        parts, start = [], 0
        while start < len(ids):
            part = slice(start, start + size)
            try:
                parts.append(self.run_batch(ids[part], mask[part], None if rows is None else rows[part]))
            except Exception as err:  # onnxruntime raises plain RuntimeError subclasses
                if not is_out_of_memory(err):
                    raise
                if size == 1:
                    raise ModelError(f"out of memory even for one sequence of {ids.shape[1]} tokens; "
                                     "use --device cpu or a smaller model") from None
                size = max(1, size // 2)
                self.max_batch = size
                self.retries += 1
                continue
            start += size
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)


def iobinding_runner(session, device_id: int = 0) -> Callable[..., np.ndarray]:
    """Run with inputs copied to the GPU once and logits allocated there by onnxruntime (no host
    round trip inside the graph); only the final logits come back to the host."""
    import onnxruntime as ort

    from saprot_scan.backends.feeding import feed, pick_rows, takes_query_rows

    with_rows = takes_query_rows(session)

    def run(ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        binding = session.io_binding()
        on_gpu = {name: ort.OrtValue.ortvalue_from_numpy(array, "cuda", device_id)
                  for name, array in feed(ids, mask, rows, with_rows).items()}  # kept alive until the run ends
        for name, value in on_gpu.items():
            binding.bind_ortvalue_input(name, value)
        binding.bind_output(LOGITS, "cuda", device_id)
        session.run_with_iobinding(binding)
        out = np.asarray(binding.copy_outputs_to_cpu()[0], dtype=np.float32)
        return out if with_rows else pick_rows(out, rows)

    return run
