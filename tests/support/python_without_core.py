"""A real viewer's Python without saprot-scan: a fresh venv that sees this environment's packages but not ours.

``python -m venv`` gives it its own site-packages; a ``.pth`` file there points at a folder of symlinks to every
entry of the test environment's site-packages except the saprot packages (and their editable-install hooks).
So pymol, PyQt5, chimerax, numpy, onnxruntime, biotite... import, and pip sees them installed (nothing to
download), while the core is missing until something pip-installs it. Used for PyMOL's Python (the plugin
installs its core) and ChimeraX's (its own ``pip install`` and ``toolshed install`` commands).
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
    python: Path          # the venv's interpreter, as the viewer's sys.executable would be
    site_packages: Path   # where a plain pip install goes
    shared: Path          # the folder of symlinks the venv sees (after its own site-packages)


def _link_shared(shared: Path, hidden: tuple[str, ...], hidden_inside: dict[str, tuple[str, ...]]) -> None:
    shared.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if entry.name.startswith(hidden):
            continue
        if entry.name in hidden_inside:  # a package folder shared entry by entry, without some sub-packages
            (shared / entry.name).mkdir()
            for child in entry.iterdir():
                if child.name not in hidden_inside[entry.name]:
                    (shared / entry.name / child.name).symlink_to(child)
            continue
        (shared / entry.name).symlink_to(entry)


def python_without_core(root: Path, own_pip: bool = True, hidden: tuple[str, ...] = HIDDEN_PREFIXES,
                        hidden_inside: dict[str, tuple[str, ...]] | None = None,
                        user_site: bool = False) -> PythonWithoutCore:
    """Build the venv under ``root``.

    own_pip=False skips ensurepip (seconds faster): then ``-m pip`` is this environment's pip, run by the venv.
    ``hidden_inside`` hides sub-packages of a shared package (ChimeraX's bundles live in ``chimerax/NAME``).
    user_site=True makes a venv whose pip accepts ``--user`` (``--system-site-packages``; the base Python's
    packages come after the shared folder). The interpreter is a copy (``--copies``): a viewer that runs pip
    with the Python beside ``realpath(sys.executable)``, as ChimeraX does, then stays in the venv.
    """
    venv = root / "venv"
    options = ["--copies"] + ([] if own_pip else ["--without-pip"])
    options += ["--system-site-packages"] if user_site else []
    subprocess.run([sys.executable, "-m", "venv", *options, str(venv)], check=True, capture_output=True, timeout=300)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    shared = root / "shared-site-packages"
    _link_shared(shared, hidden, hidden_inside or {})
    (site_packages / "zz_shared.pth").write_text(f"{shared}\n")
    return PythonWithoutCore(python, site_packages, shared)
