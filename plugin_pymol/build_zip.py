"""Build the Plugin-Manager archive: dist/saprot_scan_pymol-VERSION.zip holding saprot_scan_pymol/.

The archive also carries the core as a wheel (saprot_scan_pymol/wheels/saprot_scan-VERSION-py3-none-any.whl), so
the plugin can pip-install its core into PyMOL's own Python with no index and no source checkout. PyMOL's
installer extracts the whole archive into its startup folder, so the wheel lands beside the plugin's code.
"""
from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "saprot_scan_pymol"
CORE = HERE.parent / "core"
WHEELS = "wheels"  # the folder inside saprot_scan_pymol/ that holds the core wheel (core_install.py reads it)
EPOCH = 1704067200  # 2024-01-01 00:00 UTC: every timestamp in the archive and the wheel, so builds are identical
DATE_TIME = time.gmtime(EPOCH)[:6]


def version() -> str:
    text = (PACKAGE / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def _setuptools_builds_wheels() -> bool:
    """True when this Python's own setuptools can build the core (70.1 and later have bdist_wheel built in)."""
    try:
        major, minor = (int(part) for part in importlib.metadata.version("setuptools").split(".")[:2])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return (major, minor) >= (70, 1)


def build_core_wheel(out_dir: Path) -> Path:
    """pip wheel of a clean copy of core/ (links followed, no stale build/ folder), timestamps from EPOCH."""
    with tempfile.TemporaryDirectory(prefix="saprot-core-") as tmp:
        source = Path(tmp) / "core"
        shutil.copytree(CORE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                   "--no-input", "-q", "-w", str(Path(tmp) / "wheel"), str(source)]
        if _setuptools_builds_wheels():
            command.insert(4, "--no-build-isolation")  # this Python's setuptools; otherwise pip fetches one
        proc = subprocess.run(command, env={**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH)},
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"building the core wheel failed:\n{proc.stdout}{proc.stderr}")
        (wheel,) = (Path(tmp) / "wheel").glob("saprot_scan-*.whl")
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(wheel, out_dir / wheel.name))


def _add(archive: zipfile.ZipFile, name: str, data: bytes, compress: int) -> None:
    info = zipfile.ZipInfo(name, date_time=DATE_TIME)
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)


def build(out_dir: Path) -> Path:
    """The package's .py files and the core wheel, with fixed timestamps so the same sources give the same zip."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"saprot_scan_pymol-{version()}.zip"
    tmp = target.with_suffix(".zip.tmp")
    with tempfile.TemporaryDirectory(prefix="saprot-wheel-") as wheel_dir:
        wheel = build_core_wheel(Path(wheel_dir))
        with zipfile.ZipFile(tmp, "w") as archive:
            for path in sorted(PACKAGE.glob("*.py")):
                _add(archive, f"saprot_scan_pymol/{path.name}", path.read_bytes(), zipfile.ZIP_DEFLATED)
            _add(archive, f"saprot_scan_pymol/{WHEELS}/{wheel.name}", wheel.read_bytes(), zipfile.ZIP_STORED)
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "dist").resolve())
