"""What produced a report: the command line, the versions of what ran, the models and their hashes."""
from __future__ import annotations

import platform
import shlex
from datetime import datetime, timezone
from importlib import metadata
from typing import Sequence

#: The vendored viewer's version (see vendor/README.md).
VIEWER = "3Dmol.js 2.5.5"
#: Libraries whose version can change the numbers or the page.
_LIBRARIES = ("numpy", "onnxruntime", "onnxruntime-gpu", "biotite")


def command_text(argv: Sequence[str] | None) -> str:
    """The command as a shell would take it back (``saprot-scan scan 1aki.cif --report r.html``)."""
    return shlex.join(["saprot-scan", *argv]) if argv is not None else ""


def versions() -> dict[str, str]:
    """saprot-scan, Python, the numerical libraries that are installed, and the 3D viewer."""
    from saprot_scan import __version__

    out = {"saprot-scan": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    out["3D viewer"] = VIEWER
    return out


def provenance(argv: Sequence[str] | None, results: Sequence) -> dict:
    """The page's "how this was made" block: command, versions, each model once with its sha256, the time."""
    models = {}
    for result in results:
        models.setdefault((result.model_name, result.model_sha256), result.method)
    return {"command": command_text(argv), "versions": versions(),
            "models": [{"name": name, "sha256": sha, "method": method} for (name, sha), method in models.items()],
            "written": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
