"""Where the user's models and cached results live (XDG cache, overridable for tests)."""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$SAPROT_SCAN_CACHE``, else ``$XDG_CACHE_HOME/saprot-scan``, else ``~/.cache/saprot-scan``."""
    if os.environ.get("SAPROT_SCAN_CACHE"):
        return Path(os.environ["SAPROT_SCAN_CACHE"])
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
