"""Whether the ``export`` extra is installed, asked before fetch, import or export starts: every front end (the
CLI, PyMOL's Fetch button, ChimeraX's ``saprot models fetch``) then names the extra to install in the same
words, instead of Python's ``No module named 'huggingface_hub'`` halfway through."""
from __future__ import annotations

import importlib.util

from saprot_scan.errors import InputError

#: What fetch, import and export need beyond the core: the ``export`` extra.
EXPORT_MODULES = ("torch", "transformers", "onnx", "onnxscript", "huggingface_hub", "safetensors")


def need_export_extra(command: str) -> None:
    """Name the extra to install, in one line (``InputError``), before any work, when one of its packages is missing."""
    missing = []
    for module in EXPORT_MODULES:
        try:
            if importlib.util.find_spec(module) is None:
                missing.append(module)
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken install
            missing.append(module)
    if missing:
        raise InputError(f"{command} needs the export extra: pip install 'saprot-scan[export]' "
                         f"(missing: {', '.join(missing)})")
