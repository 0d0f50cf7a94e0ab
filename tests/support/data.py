"""The test data that ships in ``tests/data`` (compressed), unpacked once into a folder every test reads.

``tests/data`` holds the files as published, compressed (licences in its README): the 22 mmCIF
structures of the Foldseek reference set as one ``structures.tar.xz``, Foldseek's 3Di strings for them
(``i3d.fasta.gz``), SCOPe40 with 3Di (``scope40/``) and UniProt reference sequences (``uniprot/``).
``data_dir()`` unpacks them into a folder under the system temp dir named by the archives' contents, so
every process (pytest, PyMOL and ChimeraX subprocesses) sees the same plain files, and a changed archive
gets a new folder. Unpacking goes to a
private folder that is renamed into place, so two processes unpacking at once never see half a folder.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
from functools import lru_cache
from pathlib import Path

PACKED = Path(__file__).resolve().parents[1] / "data"
STRUCTURES = "foldseek_3di"
SCOPE40 = Path("scope40") / "scope40_aa_3di_sccs.tsv.gz"
UNIPROT = "uniprot"
EXAMPLE_STRUCTURE = Path(__file__).resolve().parents[2] / "examples" / "1aki.cif"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(PACKED.rglob("*")):
        if path.is_file() and path.name != "README.md":
            digest.update(str(path.relative_to(PACKED)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _unpack(into: Path) -> None:
    (into / STRUCTURES).mkdir(parents=True)
    with tarfile.open(PACKED / STRUCTURES / "structures.tar.xz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or "/" in member.name or not member.name.endswith(".cif"):
                raise ValueError(f"unexpected entry {member.name!r} in the packed structures")
            with archive.extractfile(member) as src, open(into / STRUCTURES / member.name, "wb") as dst:
                shutil.copyfileobj(src, dst)
    with gzip.open(PACKED / STRUCTURES / "i3d.fasta.gz", "rb") as src, \
            open(into / STRUCTURES / "i3d.fasta", "wb") as dst:
        shutil.copyfileobj(src, dst)
    (into / SCOPE40).parent.mkdir(parents=True)
    shutil.copyfile(PACKED / SCOPE40, into / SCOPE40)  # read compressed by its loader
    (into / UNIPROT).mkdir()
    for packed in sorted((PACKED / UNIPROT).glob("*.fasta.gz")):
        with gzip.open(packed, "rb") as src, open(into / UNIPROT / packed.name[:-3], "wb") as dst:
            shutil.copyfileobj(src, dst)


@lru_cache(maxsize=None)
def data_dir() -> Path:
    """The unpacked test data: ``foldseek_3di/*.cif``, ``foldseek_3di/i3d.fasta``, ``scope40/*.tsv.gz``,
    ``uniprot/*.fasta``."""
    target = Path(tempfile.gettempdir()) / f"saprot-scan-test-data-{_fingerprint()}"
    if (target / ".complete").is_file():
        return target
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        _unpack(staging)
        (staging / ".complete").write_text("")
        try:
            os.rename(staging, target)
        except OSError:  # another process finished first (or a stale partial folder is in the way)
            if not (target / ".complete").is_file():
                shutil.rmtree(target, ignore_errors=True)
                os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def structure(name: str) -> Path:
    """One of the packed mmCIF files by PDB id, e.g. ``structure("1aki")``."""
    return data_dir() / STRUCTURES / f"{name}.cif"


def reference_sequence(accession: str) -> Path:
    """One of the packed UniProt entries as a plain FASTA file, e.g. ``reference_sequence("P00698")``."""
    return data_dir() / UNIPROT / f"{accession}.fasta"
