"""Foldseek 3Di letters for a chain: the foldseek binary when present, biotite's port of its encoder otherwise.

Both give the same letters (tests check every record of Foldseek's own output in tests/data).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from saprot_scan.errors import InputError
from saprot_scan.encoding.structure import Chain

BACKENDS = ("auto", "foldseek", "embedded")


def encode_embedded(chain: Chain) -> str:
    """3Di string from biotite's NumPy port of Foldseek's encoder (residues without N/C get 'd', as Foldseek)."""
    from biotite.structure.alphabet.encoder import Encoder

    n, ca, c, cb = (chain.coords[:, k, :].astype(np.float32) for k in range(4))
    codes = Encoder().encode(ca, cb, n, c).filled()
    alphabet = "acdefghiklmnpqrstvwy"
    return "".join(alphabet[int(i)] for i in codes)


def foldseek_binary() -> str | None:
    """Path of a foldseek executable on PATH, or None."""
    return shutil.which("foldseek")


def is_record_of(name: str, chain_id: str, model: int) -> bool:
    """Foldseek names records ``<file>_<chain>``, or ``<file>_MODEL_<n>_<chain>`` for ensembles."""
    head, _, chain = name.rpartition("_")
    if chain != chain_id:
        return False
    if "_MODEL_" in head:
        return head.rsplit("_MODEL_", 1)[1] == str(model)
    return model == 1


def encode_with_foldseek(structure_path: str | os.PathLike, chain_id: str, model: int = 1) -> str:
    """Run SaProt's own foldseek call on the file and return chain ``chain_id``'s 3Di string (of ``model``)."""
    exe = foldseek_binary()
    if exe is None:
        raise InputError("--3di foldseek: no foldseek binary on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.tsv"
        cmd = [exe, "structureto3didescriptor", "-v", "0", "--threads", "1", "--chain-name-mode", "1",
               str(structure_path), str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not out.exists():
            said = (proc.stderr or proc.stdout).strip().splitlines()
            raise InputError(f"foldseek failed on {Path(structure_path).name}: {said[-1] if said else 'no output'}")
        for line in out.read_text().splitlines():
            name, _aa, di = line.split("\t")[:3]
            if is_record_of(name, chain_id, model):
                return di.lower()
    raise InputError(f"foldseek wrote no 3Di string for chain {chain_id} (model {model})")


def encode_3di(chain: Chain, backend: str = "auto") -> str:
    """The chain's 3Di string, lower case, one letter per residue."""
    if backend not in BACKENDS:
        raise InputError(f"--3di must be one of {', '.join(BACKENDS)}")
    use_binary = backend == "foldseek" or (backend == "auto" and foldseek_binary() is not None)
    source = Path(chain.source) if chain.source else None
    if use_binary and source is not None and source.is_file():
        di = encode_with_foldseek(source, chain.chain_id, chain.model)
        if len(di) == len(chain):
            return di
        if backend == "foldseek":
            raise InputError(f"foldseek read {len(di)} residues of chain {chain.chain_id}, we read {len(chain)}")
    elif backend == "foldseek":
        raise InputError("--3di foldseek needs a structure file and a foldseek binary on PATH")
    return encode_embedded(chain)
