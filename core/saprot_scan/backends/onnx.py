"""The ONNX scorer: load a SaProt export into onnxruntime (CUDA when usable, else CPU) and score with it.

The model is checked before use: it must take (input_ids, attention_mask[, query_rows]) and give 446-way logits,
so a wrong or corrupt file fails with one clear line instead of odd scores.

Precision: with ``precision="auto"`` a CUDA device runs the model's fp16 copy and the CPU its int8
copy, when such a copy exists beside the fp32 file and belongs to it (backends/copies.py); otherwise the fp32
file. ``$SAPROT_SCAN_PRECISION`` (fp32, fp16, int8) overrides "auto".
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

if TYPE_CHECKING:
    from saprot_scan.encoding.structure import Chain
    from saprot_scan.encoding.tokens import StructureTokens

import numpy as np

from saprot_scan.backends import cuda
from saprot_scan.backends.base import DEVICES, PRECISIONS, ProgressFn
from saprot_scan.backends.copies import CHECK_KEY, MIN_INT8_SPEARMAN, PARENT_SHA_KEY, PRECISION_KEY, copy_path
from saprot_scan.backends.feeding import ATTENTION_MASK, INPUT_IDS, LOGITS, QUERY_ROWS, run_logits
from saprot_scan.backends.threads import default_threads, spin_ok
from saprot_scan.encoding.tokens import VOCAB_SIZE
from saprot_scan.errors import InputError, ModelError
from saprot_scan.scoring.meaning import LOG_RATIO, ScoreMeaning
from saprot_scan.settings import ENV_PRECISION

CPU_BATCH = 4  # sequences per run on the CPU (measured on 2 cores: larger batches are no faster)


@dataclass
class LoadedModel:
    """An onnxruntime session over a checked SaProt export, plus what the user should be told about it.

    A ``Scorer`` (backends.base): ``scan`` and ``score_variants`` run SaProt's scoring maths on it; it is
    also the ``LogitsModel`` that maths calls (``logits``, ``default_batch_size``).
    """

    name: str
    path: Path
    sha256: str
    device: str
    session: object = field(repr=False)
    origin: str = ""  # why this model was chosen (named, env var, preference, cache, embedded default)
    precision: str = "fp32"
    kind: str = "language-model"
    score_meaning: ScoreMeaning = LOG_RATIO  # SaProt's masked and wild-type marginals
    runner: Callable[..., np.ndarray] | None = field(default=None, repr=False)

    def describe(self) -> str:
        """One line saying which model scored and on what."""
        why = f" ({self.origin})" if self.origin else ""
        return f"model {self.name}{why}, {self.precision} on {self.device.upper()}, sha256 {self.sha256[:12]}"

    def cache_identity(self) -> Sequence[str]:
        """The file's SHA-256 and precision: the scores depend on nothing else of the model."""
        return (self.sha256, self.precision)

    def check(self) -> None:
        """One tiny batch through the model, so a file that loads but is not SaProt fails in one line now."""
        from saprot_scan.scoring.marginals import check_model_runs

        check_model_runs(self)

    def scan(self, chain: Chain, tokens: StructureTokens, method: str, batch_size: int | None = None,
             progress: ProgressFn | None = None, cancel=None) -> np.ndarray:
        """(L, 20) scores: SaProt's masked marginal ("masked") or the wild-type marginal ("wt")."""
        from saprot_scan.scoring.marginals import masked_marginal, wt_marginal

        if method == "masked":
            return masked_marginal(self, tokens.ids(), tokens.struct, tokens.aa, batch_size, progress, cancel)
        return wt_marginal(self, tokens.ids(), tokens.aa, progress, cancel)

    def score_variants(self, chain: Chain, tokens: StructureTokens, variants, batch_size: int | None = None
                       ) -> np.ndarray:
        """One masked-marginal score per variant, all sites of a multi-mutant masked in one pass."""
        from saprot_scan.scoring.variants import score_variants

        return score_variants(self, tokens.ids(), tokens.struct, tokens.aa, variants, batch_size)

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


def _session_options(threads: int | None, quiet: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 4 if quiet else 3  # quiet: a failing CUDA start is reported once, by us
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_ok() else "0")
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
    if not {INPUT_IDS, ATTENTION_MASK} <= inputs <= {INPUT_IDS, ATTENTION_MASK, QUERY_ROWS} \
            or LOGITS not in outputs:
        raise ModelError(f"{path.name}: not a SaProt ONNX export (needs inputs {INPUT_IDS}, {ATTENTION_MASK} "
                         f"[, {QUERY_ROWS}] and output {LOGITS}; has {sorted(inputs)} -> {sorted(outputs)})")
    last = outputs[LOGITS].shape[-1] if outputs[LOGITS].shape else None
    if isinstance(last, int) and last != VOCAB_SIZE:
        raise ModelError(f"{path.name}: not a SaProt model (logits over {last} tokens, SaProt has {VOCAB_SIZE})")


@dataclass(frozen=True)
class _Candidate:
    path: Path
    expected_sha256: str | None  # from a cache manifest, when it records one


def _manifest_copy(path: Path, precision: str) -> _Candidate | None:
    """A copy recorded in a model-cache manifest beside the file (keys onnx_<p>, sha256_<p>)."""
    try:
        manifest = json.loads((path.parent / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("onnx") != path.name or not manifest.get(f"onnx_{precision}"):
        return None
    return _Candidate(path.parent / manifest[f"onnx_{precision}"], manifest.get(f"sha256_{precision}"))


def find_copy(path: str | os.PathLike, precision: str) -> Path | None:
    """The ``precision`` copy of the fp32 model at ``path``, if one exists (manifest entry or sibling)."""
    candidate = _find_copy(Path(path), precision)
    return candidate.path if candidate else None


def _find_copy(path: Path, precision: str) -> _Candidate | None:
    found = _manifest_copy(path, precision)
    if found and found.path.is_file():
        return found
    for sibling in (copy_path(path, precision), path.with_name(f"{path.stem}-{precision}.onnx")):
        if sibling != path and sibling.is_file():
            return _Candidate(sibling, None)
    return None


def _copy_problem(meta: dict, precision: str, parent: Path, parent_sha: str, digest: str,
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
        from saprot_scan.backends.copies import read_metadata

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


def copy_report(path: str | os.PathLike, precision: str) -> dict:
    """What ``models info --precision`` shows of one precision of the fp32 model at ``path``, without running it:
    the file, its SHA-256 and metadata, and whether the runtime would use it (and on what), or why not."""
    from saprot_scan.backends.copies import read_metadata
    from saprot_scan.models.hashing import cached_sha256

    path = Path(path)
    if precision == "fp32":
        file, expected = path, None
    else:
        candidate = _find_copy(path, precision)
        if candidate is None:
            make = (f"saprot-scan models quantize {path}" if precision == "int8"
                    else "saprot-scan models import/fetch ... --fp16, or saprot-scan models export ... --fp16")
            raise ModelError(f"no {precision} copy of {path.name}; make one with: {make}")
        file, expected = candidate.path, candidate.expected_sha256
    digest = cached_sha256(file)
    meta = read_metadata(file)
    problem = None if file == path else _copy_problem(meta, precision, path, cached_sha256(path), digest, expected)
    if problem is None and meta.get(PRECISION_KEY, "fp32") != precision:
        problem = f"it is {meta.get(PRECISION_KEY, 'fp32')}, not {precision}"
    data = file.with_name(file.name + ".data")
    used = {"fp32": "CPU and CUDA when asked for (--precision fp32)", "int8": "CPU (chosen automatically)",
            "fp16": "CUDA (chosen automatically; not run on the CPU)"}[precision]
    return {"path": file, "sha256": digest, "precision": precision, "metadata": meta,
            "bytes": file.stat().st_size + (data.stat().st_size if data.is_file() else 0),
            "used": f"no: {problem}" if problem else used}


def _wanted_precision(precision: str | None, device: str) -> tuple[str, bool]:
    """(precision to look for, whether the user asked for it explicitly)."""
    if precision in (None, "auto"):
        env = os.environ.get(ENV_PRECISION, "").strip().lower()
        if env and env != "auto":
            precision = env
        else:
            return ("fp16" if device == "cuda" else "int8"), False
    if precision not in PRECISIONS:
        raise InputError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    return precision, True


def _open_copy(path: Path, digest: str, wanted: str, device: str):
    """(session, device, file, sha256) of the ``wanted`` copy of ``path``, or (None, why not)."""
    from saprot_scan.models.hashing import cached_sha256

    candidate = _find_copy(path, wanted) if wanted != "fp32" else None
    if candidate is None:
        return None, "no such copy beside it"
    variant_digest = cached_sha256(candidate.path)
    session, used = open_session(candidate.path, "cpu" if wanted == "int8" else device)
    meta = session.get_modelmeta().custom_metadata_map
    problem = _copy_problem(meta, wanted, path, digest, variant_digest, candidate.expected_sha256)
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
    from saprot_scan.models.hashing import cached_sha256

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    digest = cached_sha256(path)
    if expected_sha256 and digest != expected_sha256:
        raise ModelError(f"{path.name}: SHA-256 {digest[:12]}... does not match the recorded "
                         f"{expected_sha256[:12]}...; the file is damaged or was changed")
    wanted, explicit = _wanted_precision(precision, resolve_device(device))
    found, problem = _open_copy(path, digest, wanted, device)
    if found is not None:
        session, used, file, digest = found
        kind = wanted
    else:
        session, used = open_session(path, device)
        file, kind = path, session.get_modelmeta().custom_metadata_map.get(PRECISION_KEY, "fp32")
        if explicit and kind != wanted:
            hint = f"; make one with: saprot-scan models quantize {path}" if wanted == "int8" else ""
            raise ModelError(f"no usable {wanted} copy of {path.name}: {problem}{hint}")
    runner = cuda.BatchRunner(cuda.iobinding_runner(session)) if used == "cuda" else None
    return LoadedModel(name=name or path.stem, path=file, sha256=digest, device=used, session=session,
                       origin=origin, precision=kind, runner=runner)


def load_model(spec: str | os.PathLike | None = None, device: str = "auto",
               precision: str | None = "auto") -> LoadedModel:
    """Load a model by registry name or .onnx path; ``None`` picks the default (see registry)."""
    from saprot_scan.models.registry import resolve_model

    ref = resolve_model(spec)
    return load_model_file(ref.path, device=device, name=ref.name, expected_sha256=ref.sha256,
                           origin=ref.origin, precision=precision)
