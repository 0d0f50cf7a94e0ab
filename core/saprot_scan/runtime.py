"""Load an exported SaProt ONNX model into onnxruntime and run it, on a CUDA GPU when one is usable.

The model is checked before use: it must take (input_ids, attention_mask[, query_rows]) and give 446-way logits,
so a wrong or corrupt file fails with one clear line instead of odd scores.

Precision: with ``precision="auto"`` a CUDA device runs the model's fp16 copy and the CPU its int8
copy, when such a copy exists beside the fp32 file and belongs to it (variants.py); otherwise the fp32
file. ``$SAPROT_SCAN_PRECISION`` (fp32, fp16, int8) overrides "auto".
"""
from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import cuda
from .errors import InputError, ModelError
from .model_io import QUERY_ROWS, run_logits
from .tokens import VOCAB_SIZE
from .variants import CHECK_KEY, PARENT_SHA_KEY, PRECISION_KEY, PRECISIONS, variant_path

DEVICES = ("auto", "cpu", "cuda")
CPU_BATCH = 4  # sequences per run on the CPU (measured on 2 cores: larger batches are no faster)
MIN_INT8_SPEARMAN = 0.99


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
    return cuda.provider_available()


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
    kind: str = "language-model"
    runner: Callable[..., np.ndarray] | None = field(default=None, repr=False)

    def describe(self) -> str:
        """One line saying which model scored and on what."""
        why = f" ({self.origin})" if self.origin else ""
        return f"model {self.name}{why}, {self.precision} on {self.device.upper()}, sha256 {self.sha256[:12]}"

    def logits(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """float32 logits for a batch of token ids and its attention mask: (B, R, 446) at ``rows`` (B, R),
        or (B, T, 446) for every row when ``rows`` is None."""
        if self.runner is not None:
            return self.runner(ids, mask, rows)
        return run_logits(self.session, ids, mask, rows)

    def default_batch_size(self, length: int) -> int:
        """Sequences per pass: small on CPU (measured best on 2 cores); on a GPU sized from free memory."""
        if self.device == "cuda":
            size = os.path.getsize(self.path)
            data = self.path.with_name(self.path.name + ".data")
            if data.exists():
                size += os.path.getsize(data)
            batch = cuda.batch_for_memory(length, cuda.free_memory_bytes(), size)
            limit = getattr(self.runner, "max_batch", None)
            return min(batch, limit) if limit else batch
        return CPU_BATCH


def resolve_device(device: str) -> str:
    """"cpu" or "cuda" for a requested device; "auto" is cuda only where onnxruntime has CUDA."""
    if device not in DEVICES:
        raise InputError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "cpu":
        return "cpu"
    if cuda.provider_available():
        return "cuda"
    if device == "cuda":
        raise InputError("device cuda: this onnxruntime has no CUDA support (swap in the GPU build: "
                         "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu)")
    return "cpu"


def _spin_ok() -> bool:
    """Whether idle worker threads may spin between operators. Measured (int8, 35M, 300 residues, 2 threads):
    on an idle machine spinning is 7% faster (29 vs 31 ms per pass); on a loaded one it steals the cores
    the scan needs (77-91 vs 59 ms). So spin only while other work keeps less than half a core busy;
    ``$SAPROT_SCAN_SPIN`` (0/1) decides instead when set."""
    if os.environ.get("SAPROT_SCAN_SPIN") in ("0", "1"):
        return os.environ["SAPROT_SCAN_SPIN"] == "1"
    global _spin_decision
    now = time.monotonic()
    if _spin_decision is None or now - _spin_decision[0] > SPIN_DECISION_SECONDS:
        busy = other_busy_cores()
        if busy is not None:
            quiet = busy < 0.5
        else:  # no /proc/stat: the load average, which also counts this process's own work
            try:
                quiet = os.getloadavg()[0] < 0.5 * (os.cpu_count() or 1)
            except OSError:
                quiet = True
        _spin_decision = (now, quiet)
    return _spin_decision[1]


SPIN_DECISION_SECONDS = 30.0
_spin_decision: tuple[float, bool] | None = None


def _busy_ticks() -> int:
    """Clock ticks all CPUs spent busy since boot (Linux /proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return sum(values) - values[3] - values[4]


def other_busy_cores(window: float = 0.1) -> float | None:
    """How many cores other work keeps busy now: busy CPU time over ``window`` seconds minus this
    process's own. Not the load average, which still counts this process's previous scans for a
    minute afterwards. None where /proc/stat does not exist."""
    try:
        ticks, own = _busy_ticks(), time.process_time()
        time.sleep(window)
        ticks, own = _busy_ticks() - ticks, time.process_time() - own
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, ticks / os.sysconf("SC_CLK_TCK") - own) / window


def _session_options(threads: int | None, quiet: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 4 if quiet else 3  # quiet: a failing CUDA start is reported once, by us
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if _spin_ok() else "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


def _create(path: Path, providers: list, threads: int | None):
    import onnxruntime as ort

    quiet = any(p[0] == cuda.PROVIDER if isinstance(p, tuple) else p == cuda.PROVIDER for p in providers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ort.InferenceSession(str(path), sess_options=_session_options(threads, quiet), providers=providers)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:200]


def open_session(path: str | os.PathLike, device: str = "auto", threads: int | None = None,
                 gpu_mem_limit: int | None = None):
    """An onnxruntime session over ``path`` on the chosen device; returns (session, device used).

    With device "auto", a CUDA setup that fails to start gives one warning and a CPU session.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    used = resolve_device(device)
    session = None
    if used == "cuda":
        cuda.preload_libraries()
        providers = [(cuda.PROVIDER, cuda.provider_options(mem_limit_bytes=gpu_mem_limit)), "CPUExecutionProvider"]
        try:
            session = _create(path, providers, threads)
        except Exception as err:
            if device == "cuda":
                raise InputError(f"device cuda: the CUDA provider failed to start ({_first_line(err)})") from None
            cuda.warn_fallback(_first_line(err))
            used = "cpu"
        if session is not None and cuda.PROVIDER not in session.get_providers():
            if device == "cuda":
                raise InputError("device cuda: the CUDA provider failed to start (check the CUDA/cuDNN install)")
            cuda.warn_fallback("the CUDA provider did not start; check the CUDA and cuDNN libraries")
            session, used = None, "cpu"
    if session is None:
        try:
            session = _create(path, ["CPUExecutionProvider"], threads)
        except Exception as err:
            raise ModelError(f"{path.name}: not a loadable ONNX model ({_first_line(err)})") from None
    _check_signature(session, path)
    return session, used


def _check_signature(session, path: Path) -> None:
    inputs = {i.name for i in session.get_inputs()}
    outputs = {o.name: o for o in session.get_outputs()}
    if not {"input_ids", "attention_mask"} <= inputs <= {"input_ids", "attention_mask", QUERY_ROWS} \
            or "logits" not in outputs:
        raise ModelError(f"{path.name}: not a SaProt ONNX export (needs inputs input_ids, attention_mask "
                         f"[, {QUERY_ROWS}] and output logits; has {sorted(inputs)} -> {sorted(outputs)})")
    last = outputs["logits"].shape[-1] if outputs["logits"].shape else None
    if isinstance(last, int) and last != VOCAB_SIZE:
        raise ModelError(f"{path.name}: not a SaProt model (logits over {last} tokens, SaProt has {VOCAB_SIZE})")


@dataclass(frozen=True)
class _Candidate:
    path: Path
    expected_sha256: str | None  # from a cache manifest, when it records one


def _manifest_variant(path: Path, precision: str) -> _Candidate | None:
    """A copy recorded in a model-cache manifest beside the file (keys onnx_<p>, sha256_<p>)."""
    try:
        manifest = json.loads((path.parent / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("onnx") != path.name or not manifest.get(f"onnx_{precision}"):
        return None
    return _Candidate(path.parent / manifest[f"onnx_{precision}"], manifest.get(f"sha256_{precision}"))


def find_variant(path: str | os.PathLike, precision: str) -> Path | None:
    """The ``precision`` copy of the fp32 model at ``path``, if one exists (manifest entry or sibling)."""
    candidate = _find_variant(Path(path), precision)
    return candidate.path if candidate else None


def _find_variant(path: Path, precision: str) -> _Candidate | None:
    found = _manifest_variant(path, precision)
    if found and found.path.is_file():
        return found
    for sibling in (variant_path(path, precision), path.with_name(f"{path.stem}-{precision}.onnx")):
        if sibling != path and sibling.is_file():
            return _Candidate(sibling, None)
    return None


def _variant_problem(meta: dict, precision: str, parent: Path, parent_sha: str, digest: str,
                     expected: str | None) -> str | None:
    """Why a copy may not stand in for its fp32 parent, or None when it may."""
    if meta.get(PRECISION_KEY) != precision:
        return f"it is {meta.get(PRECISION_KEY, 'fp32')}, not {precision}"
    if expected and digest != expected:
        return "its SHA-256 does not match the cache manifest"
    if PARENT_SHA_KEY in meta:
        if meta[PARENT_SHA_KEY] != parent_sha:
            return "it was made from a different fp32 file"
    elif not expected:
        from .variants import read_metadata

        source = read_metadata(parent).get("saprot_scan.source")
        if source is None or meta.get("saprot_scan.source") != source:
            return "nothing ties it to this fp32 file"
    if precision == "int8":
        try:
            if not float(meta.get(CHECK_KEY, "nan")) >= MIN_INT8_SPEARMAN:
                return "its score check did not pass"
        except ValueError:
            return "it carries no score check"
    return None


def _wanted_precision(precision: str | None, device: str) -> tuple[str, bool]:
    """(precision to look for, whether the user asked for it explicitly)."""
    if precision in (None, "auto"):
        env = os.environ.get("SAPROT_SCAN_PRECISION", "").strip().lower()
        if env and env != "auto":
            precision = env
        else:
            return ("fp16" if device == "cuda" else "int8"), False
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    return precision, True


def _open_variant(path: Path, digest: str, wanted: str, device: str):
    """(session, device, file, sha256) of the ``wanted`` copy of ``path``, or (None, why not)."""
    from .hashing import cached_sha256

    candidate = _find_variant(path, wanted) if wanted != "fp32" else None
    if candidate is None:
        return None, "no such copy beside it"
    variant_digest = cached_sha256(candidate.path)
    session, used = open_session(candidate.path, "cpu" if wanted == "int8" else device)
    meta = session.get_modelmeta().custom_metadata_map
    problem = _variant_problem(meta, wanted, path, digest, variant_digest, candidate.expected_sha256)
    if problem is None and wanted == "fp16" and used != "cuda":
        problem = "fp16 runs only on CUDA here"
    if problem is not None:
        return None, problem
    return (session, used, candidate.path, variant_digest), None


def load_model_file(path: str | os.PathLike, device: str = "auto", name: str | None = None,
                    expected_sha256: str | None = None, origin: str = "",
                    precision: str | None = "auto") -> LoadedModel:
    """Load an .onnx file, verifying its SHA-256 when one is recorded for it; on "auto" precision use its
    fp16 (CUDA) or int8 (CPU) copy when that copy exists and provably belongs to it."""
    from .hashing import cached_sha256

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    digest = cached_sha256(path)
    if expected_sha256 and digest != expected_sha256:
        raise ModelError(f"{path.name}: SHA-256 {digest[:12]}... does not match the recorded "
                         f"{expected_sha256[:12]}...; the file is damaged or was changed")
    wanted, explicit = _wanted_precision(precision, resolve_device(device))
    found, problem = _open_variant(path, digest, wanted, device)
    if found is not None:
        session, used, file, digest = found
        kind = wanted
    else:
        session, used = open_session(path, device)
        file, kind = path, session.get_modelmeta().custom_metadata_map.get(PRECISION_KEY, "fp32")
        if explicit and kind != wanted:
            hint = f"; make one with: python -m saprot_scan.quantize {path}" if wanted == "int8" else ""
            raise ModelError(f"no usable {wanted} copy of {path.name}: {problem}{hint}")
    runner = cuda.BatchRunner(cuda.iobinding_runner(session)) if used == "cuda" else None
    return LoadedModel(name=name or path.stem, path=file, sha256=digest, device=used, session=session,
                       origin=origin, precision=kind, runner=runner)


def load_model(spec: str | os.PathLike | None = None, device: str = "auto",
               precision: str | None = "auto") -> LoadedModel:
    """Load a model by registry name or .onnx path; ``None`` picks the default (see registry)."""
    from .registry import resolve_model

    ref = resolve_model(spec)
    return load_model_file(ref.path, device=device, name=ref.name, expected_sha256=ref.sha256,
                           origin=ref.origin, precision=precision)
