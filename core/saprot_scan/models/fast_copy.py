"""The fast copy a machine runs by default: int8 on a CPU-only machine, fp16 where a CUDA GPU answers.

Why: most users of the viewers have no GPU, and a scan with the fp32 file is about 2.5x slower than with the
checked int8 copy (BENCHMARKS.md), which existed only for those who knew to ask for it (issue 25). So
``models fetch`` and ``models import`` (and the viewers' Fetch buttons, which call the same core) make the copy
this machine will use unless told not to; a model cached before that gets its int8 copy on its first CPU scan,
once (``ensure_int8``), with a line saying what is happening and about how long it takes. A copy that fails
its score check is not kept; a note beside the model remembers that, so later scans do not try again.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import json
import os
import time
from pathlib import Path
from typing import Callable, Iterator

from saprot_scan.backends.copies import copy_path
from saprot_scan.errors import ModelError

#: Seconds to make and check an int8 copy, from its fp32 weight bytes: a start-up and a rate fitted to
#: bench/fullsize.py's int8 step on a 2-core CPU (35M: 11 s for 0.14 GB, 650M: 2 min for 2.6 GB).
INT8_SECONDS_BASE = 5.0
INT8_SECONDS_PER_GB = 46.0

#: Where the first-scan lines go: stderr (the CLI), or a viewer's log while it loads a model (``reporting``).
_NOTICES: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar("saprot_scan_copy_notices",
                                                                                       default=None)


@contextlib.contextmanager
def reporting(sink: Callable[[str], None]) -> Iterator[None]:
    """Send the lines of an int8 copy made while a model loads to ``sink`` (a viewer's log) in this context."""
    token = _NOTICES.set(sink)
    try:
        yield
    finally:
        _NOTICES.reset(token)


copy_notices_to = reporting  # the public facade's name (saprot_scan.copy_notices_to)


def notice_sink() -> Callable[[str], None]:
    """The current receiver of first-scan lines: the viewer's (``reporting``), else stderr."""
    from saprot_scan.models.stages import Stages

    return _NOTICES.get() or Stages().say


def cuda_gpu_here() -> bool:
    """Whether onnxruntime has CUDA and a GPU answers (then the fp16 copy is the one scans use)."""
    from saprot_scan.backends import cuda

    return cuda.provider_available() and cuda.free_memory_bytes() is not None


def plan_copies(fp16: bool | None, int8: bool | None) -> tuple[bool, bool, str]:
    """(make fp16, make int8, the line saying so); None means "what this machine runs": fp16 on a CUDA GPU,
    int8 without one."""
    gpu = cuda_gpu_here() if fp16 is None or int8 is None else False
    make_fp16 = gpu if fp16 is None else fp16
    make_int8 = (not gpu) if int8 is None else int8
    if int8 is None and make_int8:
        why = "no CUDA GPU here: making the checked int8 copy that CPU scans use (--no-int8 skips it)"
    elif fp16 is None and make_fp16:
        why = "CUDA GPU here: exporting the fp16 copy that GPU scans use"
    else:
        why = ""
    return make_fp16, make_int8, why


def int8_seconds(fp32_path: str | Path) -> float:
    """About how long making and checking the int8 copy of ``fp32_path`` takes (weights counted on disk)."""
    path = Path(fp32_path)
    data = path.with_name(path.name + ".data")
    size = path.stat().st_size + (data.stat().st_size if data.is_file() else 0)
    return INT8_SECONDS_BASE + INT8_SECONDS_PER_GB * size / 1e9


def rejected_note(fp32_path: str | Path) -> Path:
    """Where a failed int8 check is remembered, beside the model."""
    return copy_path(fp32_path, "int8").with_name(copy_path(fp32_path, "int8").name + ".rejected.json")


def make_int8(fp32_path: str | Path, say: Callable[[str], None], stages: bool = True) -> Path | None:
    """Make the checked int8 copy beside ``fp32_path`` (each of its stages said with ``stages``); the copy, or
    None (said, and noted beside the model) when its check fails."""
    from saprot_scan.models.hashing import cached_sha256
    from saprot_scan.models.quantize import quantize_int8
    from saprot_scan.models.stages import Stages

    try:
        report = quantize_int8(fp32_path, stages=Stages(None, sink=say) if stages else Stages(None))
    except ModelError as err:
        rejected_note(fp32_path).write_text(json.dumps({"parent_sha256": cached_sha256(fp32_path),
                                                        "reason": str(err)}))
        say(f"{err}; CPU scans use the fp32 file")
        return None
    if stages:
        say(f"int8 copy kept: {report['agreement'].line()}")
    return Path(report["path"])


def _rejected_before(fp32_path: Path) -> bool:
    from saprot_scan.models.hashing import cached_sha256

    try:
        note = json.loads(rejected_note(fp32_path).read_text())
    except (OSError, ValueError):
        return False
    return note.get("parent_sha256") == cached_sha256(fp32_path)


def ensure_int8(name: str, fp32_path: str | Path, say: Callable[[str], None]) -> None:
    """For a cached registry model with no int8 copy (cached before copies were made by default): make it
    now, once, under the model's lock, saying what happens and how long it took."""
    from saprot_scan.models.locking import model_lock

    path = Path(fp32_path)
    if copy_path(path, "int8").is_file() or _rejected_before(path):
        return
    with model_lock(name, say):
        if copy_path(path, "int8").is_file() or _rejected_before(path):
            return  # another process made it while this one waited
        say(f"{name} has no int8 copy yet (cached before saprot-scan made one by default): making it once now, "
            f"about {int8_seconds(path):.0f} s; CPU scans use it from then on")
        start = time.monotonic()
        if make_int8(path, say, stages=False) is not None:
            say(f"int8 copy of {name} made in {time.monotonic() - start:.0f} s")


def wants_int8_made(ref, device: str, precision: str | None) -> bool:
    """A cached registry model about to run on the CPU in the automatic precision, its fp32 file intact."""
    from saprot_scan.backends.onnx import resolve_device
    from saprot_scan.models.hashing import cached_sha256
    from saprot_scan.models.registry import registry
    from saprot_scan.settings import ENV_PRECISION, models_dir

    if precision not in (None, "auto") or os.environ.get(ENV_PRECISION, "").strip().lower() not in ("", "auto"):
        return False
    if ref.name not in registry() or ref.path.parent != models_dir() / ref.name:
        return False
    if importlib.util.find_spec("onnx") is None:  # a core without the fetch extra cannot write the copy
        return False
    if resolve_device(device) != "cpu" or not ref.path.is_file():
        return False
    return not ref.sha256 or cached_sha256(ref.path) == ref.sha256  # a damaged file fails its load, unquantized


def load_model_for_scans(spec=None, device: str = "auto", precision: str | None = "auto"):
    """The ONNX scorer kind's loader (``kinds``): ``backends.onnx.load_model``, after making the int8 copy a
    cached model run on the CPU lacks (``ensure_int8``; its lines go to ``notice_sink()``)."""
    from saprot_scan.backends.onnx import load_model
    from saprot_scan.models.registry import resolve_model

    ref = resolve_model(spec)
    if wants_int8_made(ref, device, precision):
        ensure_int8(ref.name, ref.path, notice_sink())
    return load_model(spec, device=device, precision=precision)


def export_for_scans(hf_dir: str | Path, out: str | Path, say: Callable[[str], None], int8: bool | None = None) -> dict:
    """What the viewers' Export buttons run: ``export_onnx`` to ``out``, then, without a CUDA GPU (``int8``
    None) or when asked (True), the checked int8 copy beside it (``out.int8.onnx``), which scans of ``out`` on
    the CPU then use. The export's report, with ``int8_path`` (None: not made, or its check failed, said)."""
    from saprot_scan.models.export import export_onnx
    from saprot_scan.models.stages import Stages

    report = export_onnx(hf_dir, out, stages=Stages(None, sink=say))
    make = plan_copies(False, int8)[1]
    copy = None
    if make:
        say("making the checked int8 copy beside it, which scans on this CPU use" if int8 is None
            else "making the checked int8 copy beside it")
        copy = make_int8(report["path"], say)
    report["int8_path"] = None if copy is None else str(copy)
    return report
