"""A ChimeraX Python as a user has it before installing saprot-scan: ChimeraX and the packages it ships,
neither the core nor the bundle, and per-user site-packages that pip's ``--user`` may write.

ChimeraX's own ``pip install`` and ``toolshed install`` commands install with ``pip --user`` into the per-user
site-packages; the test venv (.venv-chimerax) refuses ``--user`` (a venv without system site-packages) and
already holds both saprot packages. So this is the shared "Python without the core" of the tests
(``support/python_without_core.py``) with the bundle hidden too and ``--user`` allowed, plus the
``ChimeraX-Core`` distribution record the application has. Nothing outside ``dest`` is written.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/: the shared support package
from support.python_without_core import HIDDEN_PREFIXES, python_without_core  # noqa: E402

BUNDLE_ENTRIES = ("ChimeraX_SaProt", "chimerax_saprot")


def _write_core_distribution(shared: Path) -> None:
    """The ChimeraX application registers itself as the distribution ChimeraX-Core, which every bundle
    requires; the PyPI wheel is named ``chimerax`` instead. Without this, pip cannot resolve the
    bundle's ``ChimeraX-Core>=1.7`` requirement."""
    info = shared / "ChimeraX_Core-1.7.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ChimeraX-Core\nVersion: 1.7.1\n")
    (info / "INSTALLER").write_text("saprot-scan test harness\n")
    (info / "RECORD").write_text("")


def python_without_saprot(dest: Path) -> Path:
    """Build the Python described above under ``dest`` and return its interpreter's path."""
    made = python_without_core(dest, own_pip=False, hidden=HIDDEN_PREFIXES + BUNDLE_ENTRIES,
                               hidden_inside={"chimerax": ("saprot",)}, user_site=True)
    _write_core_distribution(made.shared)
    probe = subprocess.run([str(made.python), "-c", "import chimerax.core, pip, numpy; "
                            "import importlib.util as u; print(u.find_spec('saprot_scan') is None)"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != "True":
        raise RuntimeError(f"the fresh ChimeraX Python is not as intended: {probe.stdout}{probe.stderr}")
    return made.python
