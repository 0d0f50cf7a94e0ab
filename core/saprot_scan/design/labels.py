"""The user's assay labels: a ``mutant,score`` table read, checked and normalised to 1-based index numbering.

Every problem is one ``InputError`` naming the file and line (unknown column or mutant, wrong wild type,
non-numeric score, too few rows, constant scores), so ``saprot-scan fit`` fails before any model work.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from saprot_scan.errors import InputError
from saprot_scan.scoring.variants import Substitution, parse_variant

MIN_LABELS = 20
NUMBERINGS = ("index", "author")
SCORE_COLUMNS = ("score", "DMS_score")
#: Mutant names of a wild-type row (ProteinGym's ``WT``, MaveDB's ``_wt``/``_sy`` and HGVS ``p.=``): its score is
#: the measured wild type, which the fit is anchored to (``design.fitting``).
WILD_TYPE_NAMES = ("wt", "_wt", "wild type", "wild-type", "wildtype", "_sy", "p.=", "p.(=)", "=")


@dataclass
class Labels:
    """Measured variants of one chain: normalised mutant strings (1-based index numbering), parsed
    sites, and scores (duplicates averaged)."""

    mutants: list[str]
    sites: list[list[Substitution]]
    scores: np.ndarray
    duplicates: int = 0
    #: the measured wild type: the mean score of the wild-type rows (``WT``, ``_wt``, ``_sy``, ``p.=``) and
    #: the variants made only of synonymous sites; None when the table has none
    wild_type: float | None = None
    wild_type_rows: int = 0

    def __len__(self) -> int:
        return len(self.mutants)

    @property
    def singles(self) -> list[int]:
        return [k for k, s in enumerate(self.sites) if len(s) == 1]


def author_to_index(text: str, residue_labels: Sequence[str]) -> str:
    """``K52AG:L60P`` in author numbering (number + insertion code) -> the same in 1-based index numbering."""
    lookup = {label: i for i, label in enumerate(residue_labels)}
    parts = []
    for part in filter(None, (p.strip() for p in text.replace(",", ":").split(":"))):
        label = part[1:-1]
        if len(part) < 3 or label not in lookup:
            raise InputError(f"mutation {part}: no residue numbered {label or '?'} in the chain (author numbering)")
        parts.append(f"{part[0]}{lookup[label] + 1}{part[-1]}")
    return ":".join(parts)


def normalise_variant(text: str, sequence: str, residue_labels: Sequence[str] | None = None,
                      numbering: str = "index") -> tuple[str, list[Substitution]]:
    """Parse one variant in ``numbering`` and return its canonical index form (sites sorted) and sites."""
    if numbering not in NUMBERINGS:
        raise InputError(f"numbering must be index or author, not {numbering!r}")
    if numbering == "author":
        text = author_to_index(text, residue_labels or [])
    sites = sorted(parse_variant(text, sequence), key=lambda s: s.index)
    return ":".join(f"{s.wt}{s.index + 1}{s.mt}" for s in sites), sites


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def parse_labels(text: str, sequence: str, residue_labels: Sequence[str] | None = None,
                 numbering: str = "index", name: str = "labels", min_rows: int = MIN_LABELS) -> Labels:
    """Read a ``mutant,score`` table (CSV, or TSV when the header has tabs and no commas).

    Every problem is one InputError naming the file and line: unknown column, bad or unknown mutant,
    wrong wild type, non-numeric score, too few rows, constant scores.
    """
    lines = text.splitlines()
    while lines and (not lines[0].strip() or lines[0].startswith("#")):
        lines.pop(0)
    if not lines:
        raise InputError(f"{name}: the file is empty (expected columns mutant,score)")
    delimiter = "\t" if "\t" in lines[0] and "," not in lines[0] else ","
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    if "mutant" not in header:
        raise InputError(f"{name}: no 'mutant' column (expected columns mutant,score; found {','.join(header)})")
    score_col = next((c for c in SCORE_COLUMNS if c in header), None)
    if score_col is None:
        raise InputError(f"{name}: no 'score' column (expected columns mutant,score; found {','.join(header)})")
    m_idx, s_idx = header.index("mutant"), header.index(score_col)
    sums: dict[str, list] = {}
    rows = 0
    wild_type: list[float] = []
    for number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row) or row[0].startswith("#"):
            continue
        where = f"{name} line {number}"
        if len(row) <= max(m_idx, s_idx):
            raise InputError(f"{where}: expected {len(header)} columns, found {len(row)}")
        mutant, raw = row[m_idx].strip(), row[s_idx].strip()
        try:
            score = _float(raw)
        except ValueError:
            raise InputError(f"{where}: score {raw!r} is not a number") from None
        if mutant.lower() in WILD_TYPE_NAMES:
            wild_type.append(score)
            continue
        try:
            key, sites = normalise_variant(mutant, sequence, residue_labels, numbering)
        except InputError as err:
            raise InputError(f"{where}: {err}{numbering_hint(mutant, sequence, residue_labels, numbering)}") from None
        if all(s.mt == s.wt for s in sites):
            wild_type.append(score)
        entry = sums.setdefault(key, [sites, 0.0, 0])
        entry[1] += score
        entry[2] += 1
        rows += 1
    if len(sums) < min_rows:
        raise InputError(f"{name}: {len(sums)} labelled variants; fitting needs at least {min_rows}")
    scores = np.array([total / count for _, total, count in sums.values()])
    if float(np.ptp(scores)) == 0.0:
        raise InputError(f"{name}: every score is {scores[0]:g}; fitting needs scores that vary")
    return Labels(mutants=list(sums), sites=[v[0] for v in sums.values()], scores=scores,
                  duplicates=rows - len(sums), wild_type=float(np.mean(wild_type)) if wild_type else None,
                  wild_type_rows=len(wild_type))


def numbering_hint(mutant: str, sequence: str, residue_labels: Sequence[str] | None, numbering: str) -> str:
    """A hint naming the other numbering (" (it reads correctly in author numbering: --numbering author)") when
    the mutant reads correctly in it, else "": what ``score`` does for a wrongly numbered variant."""
    other = "author" if numbering == "index" else "index"
    if other == "author" and not residue_labels:
        return ""
    try:
        normalise_variant(mutant, sequence, residue_labels, other)
    except InputError:
        return ""
    return f" (it reads correctly in {other} numbering: --numbering {other})"


def read_labels(path: str | os.PathLike, sequence: str, residue_labels: Sequence[str] | None = None,
                numbering: str = "index", min_rows: int = MIN_LABELS) -> Labels:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such labels file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file (expected a CSV with columns mutant,score)") from None
    return parse_labels(text, sequence, residue_labels, numbering, name=path.name, min_rows=min_rows)
