"""Scan results as a mutation-scores CSV that ChimeraX (1.9+) opens for its ``mutationscores`` commands.

The format's rules (ChimeraX's "Mutation Scores Format" documentation and its reader):

- the first line names the columns; the first column is ``hgvs`` and holds HGVS protein substitutions in the
  predicted form ``p.(Y392A)``: one-letter wild type, residue number, one-letter mutant;
- every other column is one numeric score (here one per model and method, e.g. ``saprot_35m_masked``);
- each substitution appears once (the reader refuses duplicates); fields are split on plain commas, so no
  field holds a comma or quotes.

Residue numbers are the structure's author numbers, because ChimeraX matches scores to a chain's residues by
number. An author number with an insertion code (``52A``) cannot be written in this form, and is left out
(the count is reported); so are residues with an unknown wild type.

A file holds one chain: several chains give one file per chain (``F_A.csv``, ``F_B.csv``, ...). Names ending
in ``.hgvs.csv`` are written in this format by ``outputs.write_results`` (``F_A.hgvs.csv``, ... for chains).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError
from saprot_scan.results import ScanResult

HGVS_COLUMN = "hgvs"
#: The file-name ending that ``outputs.write_results`` writes in this format.
HGVS_SUFFIX = ".hgvs.csv"


def score_column_name(result: ScanResult) -> str:
    """A column name that is one word in ChimeraX commands: model name and method, e.g. ``saprot_35m_masked``."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{result.model_name}_{result.method}").strip("_")
    return name or "score"


@dataclass
class HgvsTable:
    """The CSV text and what had to be left out."""

    text: str
    rows: int
    skipped_insertion_codes: int
    skipped_duplicates: int


def hgvs_table(columns: Sequence[ScanResult], names: Sequence[str] | None = None) -> HgvsTable:
    """One CSV of a chain's scores; ``columns`` are results of the same chain (one per model or method)."""
    if not columns:
        raise InputError("no scan results to write")
    chains = {r.chain_id for r in columns}
    if len(chains) != 1:
        raise InputError(f"a mutation-scores CSV holds one chain, got {', '.join(sorted(chains))}")
    names = ([re.sub(r"[^A-Za-z0-9_]+", "_", n).strip("_") or "score" for n in names] if names is not None
             else [score_column_name(r) for r in columns])  # one word each: no comma can split a heading
    unique, seen = [], {}
    for name in names:  # no duplicate column names: a second "tiny_masked" becomes "tiny_masked_2"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    table: dict[tuple[int, str, str], list[str]] = {}
    skipped_icode, skipped_dup = set(), set()
    for column, result in enumerate(columns):
        owner: dict[int, str] = {}
        for i, (rid, wt) in enumerate(zip(result.residue_ids, result.wt)):
            if wt not in AMINO_ACIDS:
                continue
            if rid.icode:
                skipped_icode.add(rid.label)
                continue
            if rid.number in owner:  # the same author number twice in one chain: only the first is written
                skipped_dup.add(i)
                continue
            owner[rid.number] = rid.label
            for k, mt in enumerate(AMINO_ACIDS):
                if mt != wt and np.isfinite(result.scores[i, k]):
                    row = table.setdefault((rid.number, wt, mt), [""] * len(columns))
                    row[column] = f"{float(result.scores[i, k]):.6f}"
    lines = [",".join([HGVS_COLUMN, *unique])]
    for (number, wt, mt), values in sorted(table.items()):
        lines.append(",".join([f"p.({wt}{number}{mt})", *values]))
    return HgvsTable("\n".join(lines) + "\n", len(table), len(skipped_icode), len(skipped_dup))


def is_hgvs_name(path: str | os.PathLike) -> bool:
    """Whether ``path``'s name asks for this format by its ending (``.hgvs.csv``)."""
    return Path(path).name.lower().endswith(HGVS_SUFFIX)


def hgvs_paths(path: str | os.PathLike, chain_ids: Sequence[str]) -> list[Path]:
    """``path`` for one chain; ``name_A.csv``, ``name_B.csv``... beside it for several (``name_A.hgvs.csv``
    for a ``.hgvs.csv`` name, so each keeps the ending that names the format)."""
    path = Path(path)
    if len(chain_ids) == 1:
        return [path]
    suffix = path.name[-len(HGVS_SUFFIX):] if is_hgvs_name(path) else path.suffix
    stem = path.name[:len(path.name) - len(suffix)] if suffix else path.name
    return [path.with_name(f"{stem}_{c}{suffix}") for c in chain_ids]


def write_hgvs(results: Sequence[ScanResult], path: str | os.PathLike) -> list[tuple[Path, HgvsTable]]:
    """One mutation-scores CSV per chain (``hgvs_paths``), each written all-or-nothing after every path is
    checked; returns each file with its table (what was written and left out)."""
    from saprot_scan.outputs.files import check_writable, write_text_atomic

    paths = hgvs_paths(path, [r.chain_id for r in results])
    for target in paths:
        check_writable(target)
    written = []
    for result, target in zip(results, paths):
        table = hgvs_table([result])
        write_text_atomic(target, table.text)
        written.append((target, table))
    return written


def left_out_text(table: HgvsTable) -> str:
    """What a table had to leave out, as a phrase (empty when nothing was)."""
    skipped = []
    if table.skipped_insertion_codes:
        skipped.append(f"{table.skipped_insertion_codes} residues with insertion codes")
    if table.skipped_duplicates:
        skipped.append(f"{table.skipped_duplicates} residues repeating an author number")
    return f"left out {' and '.join(skipped)}, which the hgvs form cannot name" if skipped else ""
