"""The user's settings in one place: cache and config folders, the environment variables, the saved model preference.

The CLI and both viewers read and write the preference here, so a model chosen in one is the default in all.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

#: Environment variables saprot-scan reads (documented in docs/models.md and docs/command-line.md).
ENV_CACHE = "SAPROT_SCAN_CACHE"  # the cache folder (models, results, hashes)
ENV_MODEL = "SAPROT_SCAN_MODEL"  # the model used when none is named (a name or an .onnx path)
ENV_PRECISION = "SAPROT_SCAN_PRECISION"  # fp32, fp16 or int8 instead of "auto"
ENV_THREADS = "SAPROT_SCAN_THREADS"  # onnxruntime intra-op threads
ENV_SPIN = "SAPROT_SCAN_SPIN"  # 0/1: whether idle onnxruntime threads spin
ENV_DEBUG = "SAPROT_SCAN_DEBUG"  # tracebacks instead of one-line internal errors


def cache_dir() -> Path:
    """``$SAPROT_SCAN_CACHE``, else ``$XDG_CACHE_HOME/saprot-scan``, else ``~/.cache/saprot-scan``."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "saprot-scan"


def models_dir() -> Path:
    return cache_dir() / "models"


def results_dir() -> Path:
    return cache_dir() / "results"


def config_file() -> Path:
    """The user's saved preferences (preferred model), shared by CLI and viewers."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "saprot-scan" / "config.json"


def _config() -> dict:
    try:
        data = json.loads(config_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def saved_preference() -> str | None:
    """The model the user chose last in the CLI (``models use``), PyMOL or ChimeraX, if any."""
    return _config().get("model") or None


def save_preference(spec: str | None) -> None:
    """Remember ``spec`` (a model name or .onnx path; None forgets it) as the default for the CLI and both viewers."""
    from saprot_scan.outputs.files import write_text_atomic

    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _config()
    data["model"] = str(spec) if spec else None
    write_text_atomic(path, json.dumps(data, indent=1))


#: The origin ``default_model_spec`` gives the saved preference (the one default that may fall back).
PREFERENCE_ORIGIN = "saved preference"


def default_model_spec() -> tuple[str, str] | None:
    """(spec, why) from ``$SAPROT_SCAN_MODEL`` or the saved preference, the first two steps of the default order;
    None when neither is set (the model registry then picks a cached or the embedded model)."""
    if os.environ.get(ENV_MODEL):
        return os.environ[ENV_MODEL], f"from {ENV_MODEL}"
    preference = saved_preference()
    if preference:
        return preference, PREFERENCE_ORIGIN
    return None
