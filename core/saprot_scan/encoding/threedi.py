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


#: Entries of one block of the partner search's distance matrix (rows x L): 8 Mi float32 = 32 MiB per array,
#: whatever L is, so memory stays linear in the chain (the dense L x L matrix is 4.9 GB at 35,000 residues).
PARTNER_BLOCK_ENTRIES = 1 << 23


def closest_partners(virtual_centers) -> np.ndarray:
    """Each residue's closest other residue by virtual centre, as biotite's ``PartnerIndexEncoder`` picks it
    (same float32 arithmetic: r_i - 2 x_i.x_j + r_j; the first and last residue and masked ones are never
    chosen), one block of rows at a time instead of the dense L x L matrix (298 GiB at 200,000 residues)."""
    x = np.ma.getdata(virtual_centers)
    masked = np.ma.getmaskarray(virtual_centers)[:, 0]
    x = np.where(masked[:, None], 0, x).astype(x.dtype)
    r = np.sum(x * x, axis=-1)
    column = r.copy()
    column[masked] = np.inf
    column[0] = column[-1] = np.inf
    length = len(x)
    partners = np.zeros(length, dtype=np.int64)
    rows = max(1, PARTNER_BLOCK_ENTRIES // max(length, 1))
    for start in range(0, length, rows):
        stop = min(start + rows, length)
        block = r[start:stop, None] - 2 * np.dot(x[start:stop], x.T) + column[None, :]
        block[np.arange(stop - start), np.arange(start, stop)] = np.inf
        block[np.isnan(block)] = np.inf
        partners[start:stop] = block.argmin(axis=1)
    return partners


def encode_embedded(chain: Chain) -> str:
    """3Di string from biotite's NumPy port of Foldseek's encoder (residues without N/C get 'd', as Foldseek).

    The partner search runs in blocks (``closest_partners``) so memory grows linearly with the chain.
    """
    from biotite.structure.alphabet.encoder import Encoder

    n, ca, c, cb = (chain.coords[:, k, :].astype(np.float32) for k in range(4))
    encoder = Encoder()
    encoder.feature_encoder.partner_index_encoder._find_residue_partners = closest_partners
    with np.errstate(all="ignore"):  # residues without N or C are masked; their NaN arithmetic is expected
        codes = encoder.encode(ca, cb, n, c).filled()
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
