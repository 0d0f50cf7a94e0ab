"""pytest fixtures for the ChimeraX tests (they run under .venv-chimerax with ``--noconftest``,
because the shared conftest needs torch, which that environment does not have)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .driver import run_chimerax

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests"))  # the shared support package (no conftest runs here)
from support.data import data_dir  # noqa: E402
MODEL_ENV = "SAPROT_CHIMERAX_TEST_MODEL"


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The data in tests/data, unpacked (support/data.py)."""
    return data_dir()


@pytest.fixture(scope="session")
def structures(test_data) -> dict[str, str]:
    folder = test_data / "foldseek_3di"
    return {name: str(folder / f"{name}.cif") for name in ("1aki", "1l2y", "5ugo", "1f2n", "1k6p")}


@pytest.fixture(scope="session")
def test_model(tmp_path_factory) -> str:
    """A small random SaProt-format ONNX model exported by the core (``make test-chimerax`` builds it
    with the main venv, which has torch; otherwise it is built here the same way)."""
    given = os.environ.get(MODEL_ENV)
    if given and Path(given).is_file():
        return given
    builder = REPO / ".venv" / "bin" / "python"
    if not builder.exists():
        pytest.skip(f"no test model: set {MODEL_ENV} or create the main venv (make venv) to export one")
    out = tmp_path_factory.mktemp("tiny-model")
    proc = subprocess.run([str(builder), "-m", "saprot_scan.testing.make_tiny_model", str(out)],
                          capture_output=True, text=True, timeout=600)
    path = out / "tiny.onnx"
    if proc.returncode != 0 or not path.is_file():
        pytest.skip(f"could not export the test model: {proc.stderr.strip()[-300:]}")
    return str(path)


@pytest.fixture
def chimerax(tmp_path, test_model, structures):
    """Run a body in a fresh headless ChimeraX (see driver.py); model, structures and a private
    result cache are passed in ``params``/environment so no test sees another's cache."""
    def run(body: str, offscreen: bool = False, **extra) -> dict:
        params = {"model": test_model, "work": str(tmp_path), **structures, **extra}
        env = {"SAPROT_SCAN_CACHE": str(tmp_path / "cache"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
               "XDG_CACHE_HOME": str(tmp_path / "xdg-cache")}
        os.environ.pop("SAPROT_SCAN_MODEL", None)
        return run_chimerax(body, tmp_path / "run", params=params, offscreen=offscreen, env=env)
    return run
