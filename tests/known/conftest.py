"""The known-variant files every test here reads: built once, in the services' formats, for 1AKI (P00698)."""
from __future__ import annotations

import pytest

from support.known_files import build_files


@pytest.fixture(scope="session")
def known_files(tmp_path_factory):
    """(variation JSON path, AlphaMissense CSV path, the ClinVar variants written)."""
    return build_files(tmp_path_factory.mktemp("known-files"))


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
