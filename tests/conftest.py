"""Shared fixtures: a small real SaProt-format model built here, the packed test data, and a private cache.

Nothing here is a stand-in: the model is a real EsmForMaskedLM with random weights, exported to ONNX
by the core's own exporter and run by onnxruntime.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from support.data import EXAMPLE_STRUCTURE, data_dir

REPO = Path(__file__).resolve().parents[1]

# The ChimeraX suite runs in its own interpreter (make test-chimerax: .venv-chimerax, --noconftest);
# the main suite leaves its folder alone instead of skipping every test in it.
try:
    import chimerax.core  # noqa: F401
except ImportError:
    collect_ignore = ["chimerax"]


def pytest_collection_modifyitems(config, items):
    """Markers from where a test lives: every PyMOL test needs PyMOL, the window tests a display (gui).
    The full-size tier runs only when asked for by marker (make test-fullsize)."""
    wants_fullsize = "fullsize" in (config.getoption("-m") or "").replace("not fullsize", "")
    for item in items:
        path = Path(str(item.fspath))
        if path.parent.name == "pymol":
            item.add_marker(pytest.mark.pymol)
        if "fullsize" in item.keywords and not wants_fullsize:
            item.add_marker(pytest.mark.skip(reason="full-size tier (SaProt 35M and 650M): make test-fullsize"))


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Keep the user's model/result cache and preferences out of every test."""
    root = tmp_path_factory.mktemp("saprot-cache")
    saved = {k: os.environ.get(k) for k in ("SAPROT_SCAN_CACHE", "XDG_CONFIG_HOME", "SAPROT_SCAN_MODEL")}
    os.environ["SAPROT_SCAN_CACHE"] = str(root / "cache")
    os.environ["XDG_CONFIG_HOME"] = str(root / "config")
    os.environ.pop("SAPROT_SCAN_MODEL", None)
    yield root
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def test_data() -> Path:
    """The data in tests/data, unpacked: ``foldseek_3di/*.cif`` + ``i3d.fasta``, ``scope40/``."""
    return data_dir()


@pytest.fixture(scope="session")
def example_structure() -> Path:
    """Hen egg-white lysozyme (1AKI, 129 residues): a small, real crystal structure (examples/1aki.cif)."""
    return EXAMPLE_STRUCTURE


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    pytest.importorskip("torch", reason="building a test model needs the test extra (torch)")
    from saprot_scan.testing.make_tiny_model import make_tiny_model

    out = tmp_path_factory.mktemp("tiny-model")
    make_tiny_model(out)
    return out


@pytest.fixture(scope="session")
def tiny_hf_checkpoint(tiny_model_dir) -> Path:
    return tiny_model_dir / "hf"


@pytest.fixture(scope="session")
def tiny_onnx_model(tiny_model_dir) -> Path:
    return tiny_model_dir / "tiny.onnx"


@pytest.fixture(scope="session")
def torch_model(tiny_hf_checkpoint):
    """The test model in PyTorch (transformers' EsmForMaskedLM), the reference the ONNX side is held to."""
    from support import core_reference

    return core_reference.load_hf_model(tiny_hf_checkpoint)
