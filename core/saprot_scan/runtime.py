"""Load an exported SaProt ONNX model into onnxruntime and run it.

The model is checked before use: it must take (input_ids, attention_mask) and give 446-way logits,
so a wrong or corrupt file fails with one clear line instead of odd scores.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError, ModelError
from .tokens import VOCAB_SIZE

DEVICES = ("auto", "cpu", "cuda")


def default_threads() -> int:
    """Intra-op threads: ``$SAPROT_SCAN_THREADS`` or every core the process may use."""
    if os.environ.get("SAPROT_SCAN_THREADS"):
        return max(1, int(os.environ["SAPROT_SCAN_THREADS"]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def cuda_available() -> bool:
    """Whether onnxruntime here was built with CUDA (onnxruntime-gpu installed)."""
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


@dataclass
class LoadedModel:
    """An onnxruntime session over a checked SaProt export, plus what the user should be told about it."""

    name: str
    path: Path
    sha256: str
    device: str
    session: object = field(repr=False)
    origin: str = ""  # why this model was chosen (named, env var, preference, cache, embedded default)
    precision: str = "fp32"

    def describe(self) -> str:
        """One line saying which model scored and on what."""
        why = f" ({self.origin})" if self.origin else ""
        return f"model {self.name}{why}, {self.precision} on {self.device.upper()}, sha256 {self.sha256[:12]}"

    def logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(B, T, 446) float32 logits for a batch of token ids and its attention mask."""
        out = self.session.run(["logits"], {"input_ids": np.ascontiguousarray(ids, dtype=np.int64),
                                            "attention_mask": np.ascontiguousarray(mask, dtype=np.int64)})[0]
        return np.asarray(out, dtype=np.float32)

    def default_batch_size(self, length: int) -> int:
        """Sequences per pass: small on CPU (measured best on 2 cores), larger on a GPU."""
        if self.device == "cuda":
            return max(1, min(256, int(200_000 // max(length, 1))))
        return 4


def _providers(device: str) -> tuple[list, str]:
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "cpu":
        return ["CPUExecutionProvider"], "cpu"
    if cuda_available():
        return [("CUDAExecutionProvider", {}), "CPUExecutionProvider"], "cuda"
    if device == "cuda":
        raise InputError("device cuda: this onnxruntime has no CUDA support (install the 'gpu' extra)")
    return ["CPUExecutionProvider"], "cpu"


def _check_signature(session, path: Path) -> None:
    inputs = {i.name for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    if not {"input_ids", "attention_mask"} <= inputs or "logits" not in outputs:
        raise ModelError(f"{path.name}: not a SaProt ONNX export (needs inputs input_ids, attention_mask "
                         f"and output logits; has {sorted(inputs)} -> {sorted(outputs)})")
    last = outputs["logits"].shape[-1] if outputs["logits"].shape else None
    if isinstance(last, int) and last != VOCAB_SIZE:
        raise ModelError(f"{path.name}: not a SaProt model (logits over {last} tokens, SaProt has {VOCAB_SIZE})")


def open_session(path: str | os.PathLike, device: str = "auto", threads: int | None = None):
    """An onnxruntime session over ``path`` on the chosen device; returns (session, device used)."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    providers, used = _providers(device)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"{path.name}: not a loadable ONNX model ({first[:200]})") from None
    if used == "cuda" and "CUDAExecutionProvider" not in session.get_providers():
        if device == "cuda":
            raise InputError("device cuda: the CUDA provider failed to start (check the CUDA/cuDNN install)")
        warnings.warn("CUDA is installed but unusable; scoring on the CPU", RuntimeWarning, stacklevel=2)
        used = "cpu"
    _check_signature(session, path)
    return session, used


def load_model_file(path: str | os.PathLike, device: str = "auto", name: str | None = None,
                    expected_sha256: str | None = None, origin: str = "") -> LoadedModel:
    """Load an .onnx file, verifying its SHA-256 when one is recorded for it."""
    from .hashing import cached_sha256

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    digest = cached_sha256(path)
    if expected_sha256 and digest != expected_sha256:
        raise ModelError(f"{path.name}: SHA-256 {digest[:12]}... does not match the recorded "
                         f"{expected_sha256[:12]}...; the file is damaged or was changed")
    session, used = open_session(path, device)
    meta = session.get_modelmeta().custom_metadata_map
    precision = meta.get("saprot_scan.precision", "fp32")
    return LoadedModel(name=name or path.stem, path=path, sha256=digest, device=used, session=session,
                       origin=origin, precision=precision)


def load_model(spec: str | os.PathLike | None = None, device: str = "auto") -> LoadedModel:
    """Load a model by registry name or .onnx path; ``None`` picks the default (see registry)."""
    from .registry import resolve_model

    ref = resolve_model(spec)
    return load_model_file(ref.path, device=device, name=ref.name, expected_sha256=ref.sha256,
                           origin=ref.origin)
