"""Tables of scan results: the substitution CSV (the public column contract), the per-residue summary CSV, JSON.

CSV columns are the public contract (DESIGN.md): chain,position,residue,wt,mt,mutant,score.
"""
from __future__ import annotations

import csv
import io
import json
import os
from typing import Sequence

import numpy as np

from saprot_scan.outputs.files import write_text_atomic
from saprot_scan.results import ScanResult

CSV_COLUMNS = ("chain", "position", "residue", "wt", "mt", "mutant", "score")
SUMMARY_COLUMNS = ("chain", "position", "residue", "wt", "mean", "min", "max")
#: Appended to the substitution CSV when the chains were aligned to a reference sequence (``--reference``).
REFERENCE_COLUMN = "reference_position"


def csv_text(results: Sequence[ScanResult], alignments: Sequence | None = None) -> str:
    """The substitution CSV; with ``alignments`` (one ``conventions.reference.ReferenceAlignment`` per result)
    a last column ``reference_position`` (empty where a residue is not in the reference)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if alignments is None:
        writer.writerow(CSV_COLUMNS)
        for result in results:
            writer.writerows(result.rows())
        return buffer.getvalue()
    writer.writerow((*CSV_COLUMNS, REFERENCE_COLUMN))
    for result, alignment in zip(results, alignments, strict=True):
        for row in result.rows():
            ref = alignment.positions[int(row[1]) - 1]
            writer.writerow((*row, "" if ref is None else ref))
    return buffer.getvalue()


def write_csv(results: Sequence[ScanResult], path: str | os.PathLike, alignments: Sequence | None = None) -> None:
    """All chains' substitutions in one CSV (``csv_text``), written all-or-nothing."""
    write_text_atomic(path, csv_text(results, alignments))


def write_json(results: Sequence[ScanResult], path: str | os.PathLike) -> None:
    """Every chain's ``to_dict()`` under "chains", written all-or-nothing."""
    write_text_atomic(path, json.dumps({"chains": [r.to_dict() for r in results]}, indent=1))


def summary_csv_text(results: Sequence[ScanResult]) -> str:
    """Per-residue summary table: chain, position, residue, wt, mean, min, max over the 19 substitutions."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in results:
        mean, low, high = r.summary("mean"), r.summary("min"), r.summary("max")
        for i, rid in enumerate(r.residue_ids):
            writer.writerow((r.chain_id, r.position(i), rid.label, r.wt[i],
                             *(f"{v:.6f}" if np.isfinite(v) else "" for v in (mean[i], low[i], high[i]))))
    return buffer.getvalue()



def write_summary_csv(results: Sequence[ScanResult], path: str | os.PathLike) -> None:
    """The per-residue summary table, written all-or-nothing."""
    write_text_atomic(path, summary_csv_text(results))


def read_json(path: str | os.PathLike) -> list[ScanResult]:
    """The results a ``write_json`` file holds."""
    with open(path, encoding="utf-8") as handle:
        return [ScanResult.from_dict(chain) for chain in json.load(handle)["chains"]]
