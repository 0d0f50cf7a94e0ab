"""Whether the ``fetch`` extra is installed, asked before fetch, import or export starts: every front end (the
CLI, PyMOL's Fetch button, ChimeraX's ``saprot models fetch``) then names the extra to install in the same
words, instead of Python's ``No module named 'huggingface_hub'`` halfway through. No torch: the exporter
builds the graph itself (models/esm_graph.py)."""
from __future__ import annotations

import importlib.util

from saprot_scan.errors import InputError

#: What fetch needs beyond the core: the ``fetch`` extra (import needs only onnx and filelock of it).
FETCH_MODULES = ("onnx", "huggingface_hub", "filelock")


def need_fetch_extra(command: str, modules: tuple[str, ...] = FETCH_MODULES) -> None:
    """Name the extra to install, in one line (``InputError``), before any work, when one of its packages is missing."""
    missing = []
    for module in modules:
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
            missing.append(module)
    if missing:
        raise InputError(f"{command} needs the fetch extra: pip install 'saprot-scan[fetch]' "
                         f"(missing: {', '.join(missing)})")
