"""A real "PyMOL's Python without the core": a fresh venv that sees this environment's packages but not saprot_scan.

``python -m venv`` gives it its own pip and site-packages; a ``.pth`` file there points at a folder of symlinks to
every entry of the test environment's site-packages except the saprot_scan packages (and their editable-install
hooks). So pymol, PyQt5, numpy, onnxruntime, biotite... import, and pip sees them installed (nothing to download),
while the core is missing until something pip-installs it into the venv's own site-packages.
"""
from __future__ import annotations

import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

HIDDEN_PREFIXES = ("saprot_scan", "__editable__")


@dataclass(frozen=True)
class PythonWithoutCore:
    python: Path          # the venv's interpreter, as PyMOL's sys.executable would be
    site_packages: Path   # where pip installs into


def python_without_core(root: Path, own_pip: bool = True) -> PythonWithoutCore:
    """own_pip=False skips ensurepip (seconds faster): then ``-m pip`` is this environment's pip, run by the venv."""
    venv = root / "venv"
    options = [] if own_pip else ["--without-pip"]
    subprocess.run([sys.executable, "-m", "venv", *options, str(venv)], check=True, capture_output=True, timeout=300)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    shared = root / "shared-site-packages"
    shared.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.startswith(HIDDEN_PREFIXES):
            (shared / entry.name).symlink_to(entry)
    (site_packages / "zz_shared.pth").write_text(f"{shared}\n")
    return PythonWithoutCore(python, site_packages)
