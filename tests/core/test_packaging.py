"""Every subpackage of the core is in the wheel: a package missing from pyproject's list works in an
editable install (tests, make demo) and breaks only for users who pip-install the core or the ChimeraX bundle.
And the Makefile installs for each target only what that target needs."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "core"


def test_every_subpackage_is_listed_in_pyproject():
    text = (CORE / "pyproject.toml").read_text()
    section = text.split("\n[tool.setuptools]\n", 1)[1].split("\n[", 1)[0]
    listed = set(re.findall(r'"(saprot_scan(?:\.[a-z_0-9]+)*)"', section))
    on_disk = {".".join(p.parent.relative_to(CORE).parts) for p in (CORE / "saprot_scan").rglob("__init__.py")
               if "__pycache__" not in p.parts}
    assert on_disk and "saprot_scan.backends" in on_disk
    assert on_disk - listed == set(), "subpackages missing from [tool.setuptools] packages"


def _dry_run(target: str) -> str:
    """What ``make TARGET`` would run (make -n: nothing is installed or written)."""
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    proc = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_make_demo_installs_no_x_server_or_mouse_driver():
    """The demo renders offscreen: Xvfb, xdotool and x11-utils are for the real-window GUI tests only."""
    demo, tests = _dry_run("demo"), _dry_run("pymol-test-sysdeps")
    assert "libgl1" in demo and "for p in" in demo
    for package in ("xvfb", "xdotool", "x11-utils"):
        assert package not in demo and package in tests


def test_make_test_installs_headless_chromium_for_the_report_tests():
    """Issue 26: the --report page is tested in headless Chromium, installed by make test like PyMOL's packages."""
    tests, demo = _dry_run("test-core"), _dry_run("demo")
    assert "for p in chromium chromium-driver;" in tests
    assert "chromium" not in demo


@pytest.mark.parametrize("project", ["plugin_pymol", "bundle_chimerax"])
def test_viewer_wheels_never_ask_pip_for_the_core_by_name(project, tmp_path):
    """Issue 27 item 10: "saprot-scan" is published on no package index, so a viewer wheel that requires it by
    name makes pip (PyMOL's, ChimeraX's ``toolshed install``) fetch whatever someone registered under it. The
    core comes from its own wheel or a checkout; the built wheels' metadata must not name it."""
    import sys
    import zipfile

    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "--disable-pip-version-check", "-w", str(tmp_path), str(REPO / project)],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 and "setuptools" in proc.stderr:
        pytest.skip("building a wheel needs setuptools in this Python")
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [line for line in archive.read(name).decode().splitlines() if line.startswith("Requires-Dist:")]
    assert not [r for r in requires if re.match(r"Requires-Dist:\s*saprot[-_.]scan\b", r, re.IGNORECASE)], requires
