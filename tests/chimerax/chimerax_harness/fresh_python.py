"""A ChimeraX Python as a user has it before installing saprot-scan: ChimeraX and the packages it
ships, neither the core nor the bundle, and per-user site-packages that pip's ``--user`` may write.

ChimeraX's own ``pip install`` and ``toolshed install`` commands install with ``pip --user`` into the
per-user site-packages; the test venv (.venv-chimerax) refuses ``--user`` (a venv without system
site-packages) and already holds both saprot packages. So this builds, in a temporary folder:

- ``farm/``: a symlink for every entry of the test venv's site-packages except the saprot ones
  (and the ``chimerax`` package folder entry by entry, without its ``saprot`` bundle);
- a venv made with ``--copies`` (ChimeraX runs pip with the interpreter beside ``realpath(sys.executable)``,
  which for a symlinked venv would be the base Python) and ``--system-site-packages`` (so pip accepts
  ``--user``), whose site-packages holds one ``.pth`` line naming ``farm/``.

The base Python's own site-packages comes after ``farm/`` on ``sys.path``, so ChimeraX's pinned
packages win. Nothing outside ``dest`` is written.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAPROT_ENTRIES = ("saprot_scan", "ChimeraX_SaProt", "chimerax_saprot", "__editable__")


def _site_packages(prefix: Path) -> Path:
    return prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def _write_core_distribution(farm: Path) -> None:
    """The ChimeraX application registers itself as the distribution ChimeraX-Core, which every bundle
    requires; the PyPI wheel is named ``chimerax`` instead. Without this, pip cannot resolve the
    bundle's ``ChimeraX-Core>=1.7`` requirement."""
    info = farm / "ChimeraX_Core-1.7.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ChimeraX-Core\nVersion: 1.7.1\n")
    (info / "INSTALLER").write_text("saprot-scan test harness\n")
    (info / "RECORD").write_text("")


def _link_farm(source: Path, farm: Path) -> None:
    farm.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name.startswith(SAPROT_ENTRIES):
            continue
        if entry.name == "chimerax":
            package = farm / "chimerax"
            package.mkdir()
            for child in entry.iterdir():
                if child.name != "saprot":
                    (package / child.name).symlink_to(child)
            continue
        (farm / entry.name).symlink_to(entry)


def python_without_saprot(dest: Path) -> Path:
    """Build the Python described above under ``dest`` and return its interpreter's path."""
    source = _site_packages(Path(sys.prefix))
    farm = dest / "farm"
    _link_farm(source, farm)
    _write_core_distribution(farm)
    venv = dest / "chimerax-python"
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base), "-m", "venv", "--copies", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, capture_output=True)
    (_site_packages(venv) / "chimerax_packages.pth").write_text(f"{farm}\n")
    python = venv / "bin" / base.name
    probe = subprocess.run([str(python), "-c", "import chimerax.core, pip, numpy; "
                            "import importlib.util as u; print(u.find_spec('saprot_scan') is None)"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != "True":
        raise RuntimeError(f"the fresh ChimeraX Python is not as intended: {probe.stdout}{probe.stderr}")
    return python
