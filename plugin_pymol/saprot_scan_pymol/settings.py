"""The dialog's choices and the answer to "install the core?", remembered between PyMOL sessions in the user's
config folder."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

DEFAULTS = {
    "selection": "(all)",
    "model": "",
    "method": "masked",
    "device": "auto",
    "summary": "mean",
    "palette": "red_white_blue",
    "bfactor": False,
    "csv": "",
    "heatmap": "",
    "fitted": "",  # a model saved by 'saprot-scan fit --save': Score colours by its fitted scores
    "known": "",  # known-variant files placed beside the scores after Score (saprot_known)
    "partners": True,  # structure scorers count the object's other chains (saprot_scan partners=on)
    "core_install_declined": False,  # "No" to installing the core at start-up: do not ask at every start
}


def settings_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "saprot-scan" / "pymol-plugin.json"


def load() -> dict:
    """Saved settings over the defaults; a damaged file just means defaults."""
    values = dict(DEFAULTS)
    try:
        saved = json.loads(settings_file().read_text())
    except (OSError, ValueError):
        return values
    if isinstance(saved, dict):
        values.update({k: v for k, v in saved.items() if k in DEFAULTS and isinstance(v, type(DEFAULTS[k]))})
    return values


def save(values: dict) -> None:
    """Write the given keys over the saved ones, so the dialog and the start-up question keep each other's."""
    path = settings_file()
    merged = {**load(), **{k: v for k, v in values.items() if k in DEFAULTS}}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)  # never a shared name
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(merged, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home only costs the memory of the settings
