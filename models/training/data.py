"""Training and evaluation data: SCOPe40 domains split by whole SCOP folds, and AlphaFold Swiss-Prot models.

Why folds: rows of SCOPe40 that share a fold share structure and often sequence motifs, so a random
row split would leak. A fold is the first three fields of the SCOP class string (``d.104.1.1`` -> ``d.104.1``).
"""
from __future__ import annotations

import gzip
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from saprot_scan import AA_LETTERS, STRUCT_LETTERS, UNK_ID, combine, encode

#: ``../shared/data`` seen from the repository root (this file is models/training/data.py).
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
SCOPE40_FILE = Path("scope40") / "scope40_aa_3di_sccs.tsv.gz"
SWISSPROT_AA = Path("swissprot500") / "swissprot_subset_aa_500.fasta"
SWISSPROT_3DI = Path("swissprot500") / "swissprot_subset_ss_500.fasta"


@dataclass(frozen=True)
class Domain:
    """One chain or domain: amino acids and Foldseek 3Di letters (upper case, same length)."""

    name: str
    fold: str  # SCOP fold ("" for Swiss-Prot models)
    aa: str
    di: str

    def token_ids(self) -> np.ndarray:
        """SaProt ids ``<cls> + residues + <eos>``; unknown amino acids become ``<unk>``."""
        return encode(combine(self.aa, self.di))


@dataclass(frozen=True)
class FoldSplit:
    """Training, validation (model selection) and test (reported, used by the tests) domains."""

    train: list[Domain]
    val: list[Domain]
    test: list[Domain]
    val_folds: tuple[str, ...]
    test_folds: tuple[str, ...]


def _clean(aa: str, di: str) -> tuple[str, str]:
    # A handful of SCOPe residues are lower case (modified/odd residues); anything else non-standard -> X.
    aa = "".join(c if c in AA_LETTERS[:20] else "X" for c in aa.upper())
    di = "".join(c if c.lower() in STRUCT_LETTERS[:20] else "#" for c in di.upper())
    return aa, di


def fold_of(sccs: str) -> str:
    """SCOP fold of a class string: ``d.104.1.1`` -> ``d.104.1``."""
    return ".".join(sccs.split(".")[:3])


def load_scope40(data_dir: Path = DEFAULT_DATA_DIR) -> list[Domain]:
    """All SCOPe40 domains in file order."""
    domains = []
    with gzip.open(Path(data_dir) / SCOPE40_FILE, "rt") as handle:
        for line in handle:
            name, sccs, aa, di = line.rstrip("\n").split("\t")
            if len(aa) != len(di):
                raise ValueError(f"{name}: amino-acid and 3Di lengths differ")
            aa, di = _clean(aa, di)
            domains.append(Domain(name, fold_of(sccs), aa, di))
    return domains


def _read_fasta(path: Path) -> dict[str, str]:
    records: dict[str, list[str]] = {}
    name = None
    for line in Path(path).read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            records[name] = []
        elif name is not None:
            records[name].append(line.strip())
    return {k: "".join(v) for k, v in records.items()}


def load_swissprot500(data_dir: Path = DEFAULT_DATA_DIR) -> list[Domain]:
    """The 500 AlphaFold Swiss-Prot models (predicted structures; no pLDDT is available for them)."""
    aa = _read_fasta(Path(data_dir) / SWISSPROT_AA)
    di = _read_fasta(Path(data_dir) / SWISSPROT_3DI)
    if aa.keys() != di.keys():
        raise ValueError("swissprot500: the two FASTA files name different entries")
    out = []
    for name in aa:
        if len(aa[name]) != len(di[name]):
            raise ValueError(f"{name}: amino-acid and 3Di lengths differ")
        a, d = _clean(aa[name], di[name])
        out.append(Domain(name, "", a, d))
    return out


def split_by_fold(domains: list[Domain], seed: int = 0, val_fraction: float = 0.06,
                  test_fraction: float = 0.06) -> FoldSplit:
    """Hold out whole folds: a seeded shuffle of the sorted fold names, cut into test, val, train."""
    folds = sorted({d.fold for d in domains})
    random.Random(seed).shuffle(folds)
    n_test = round(len(folds) * test_fraction)
    n_val = round(len(folds) * val_fraction)
    test_folds = set(folds[:n_test])
    val_folds = set(folds[n_test:n_test + n_val])
    return FoldSplit(
        train=[d for d in domains if d.fold not in test_folds and d.fold not in val_folds],
        val=[d for d in domains if d.fold in val_folds],
        test=[d for d in domains if d.fold in test_folds],
        val_folds=tuple(sorted(val_folds)),
        test_folds=tuple(sorted(test_folds)),
    )


def is_scored_residue(ids: np.ndarray) -> np.ndarray:
    """Residue positions (not ``<cls>``/``<eos>``/``<unk>``) whose amino acid is one of the 20."""
    ids = np.asarray(ids)
    aa_index = (ids - 5) // len(STRUCT_LETTERS)
    return (ids >= 5) & (aa_index < 20) & (ids != UNK_ID)
