"""The known-variant files every test here reads: built once, in the services' formats, for 1AKI (P00698)."""
from __future__ import annotations

import pytest

from support.known_files import clinvar_variants, lysozyme_sequence, write_alphamissense, write_variation


@pytest.fixture(scope="session")
def known_files(tmp_path_factory):
    """(variation JSON path, AlphaMissense CSV path, the ClinVar variants written)."""
    folder = tmp_path_factory.mktemp("known-files")
    sequence = lysozyme_sequence()
    variants = clinvar_variants(sequence)
    return write_variation(folder, sequence, variants), write_alphamissense(folder, sequence), variants


@pytest.fixture(autouse=True)
def private_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))
