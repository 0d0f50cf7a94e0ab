"""Tables of scan results: the substitution CSV (the public column contract), the per-residue summary CSV, JSON.

CSV columns are the public contract (DESIGN.md): chain,position,residue,wt,mt,mutant,score; then always
percentile,class (the same meaning for every scorer: ``scoring.percentiles``), and where they apply
reference_position and measured (fitted scores: whether assay labels touched the site).
"""
from __future__ import annotations

import csv
import io
import json
import os
from typing import Mapping, Sequence

import numpy as np

from saprot_scan.outputs.files import write_text_atomic
from saprot_scan.results import ScanResult

CSV_COLUMNS = ("chain", "position", "residue", "wt", "mt", "mutant", "score")
SUMMARY_COLUMNS = ("chain", "position", "residue", "wt", "mean", "min", "max")
#: Appended to the substitution CSV when the chains were aligned to a reference sequence (``--reference``).
REFERENCE_COLUMN = "reference_position"
#: Always after the contract columns: each substitution's percentile within its chain and its class.
PERCENTILE_COLUMNS = ("percentile", "class")
#: Appended when a result carries fitted scores that know where the assay had labels.
MEASURED_COLUMN = "measured"
#: Appended when a result is partial (a stopped scan): yes where the residue was scored, no where not (empty score).
SCANNED_COLUMN = "scanned"


def csv_text(results: Sequence[ScanResult], alignments: Sequence | None = None,
             labels: Mapping[str, Sequence[str]] | None = None) -> str:
    """The substitution CSV; with ``alignments`` (one ``conventions.reference.ReferenceAlignment`` per result)
    a column ``reference_position`` (empty where a residue is not in the reference); with ``labels``, one more
    column per entry, e.g. ``{"object": ["1abc", "2xyz"]}`` (one value per result), so rows of two structures
    that share chain ids stay apart. The seven contract columns always come first, in their order, then
    percentile and class; ``measured`` (yes/no) when any result is a fitted one that knows its labelled sites."""
    extra = dict(labels or {})
    for name, values in extra.items():
        if len(values) != len(results):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(results)} results")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    measured = any(r.measured for r in results)
    partial = any(r.partial for r in results)
    header = [*CSV_COLUMNS, *PERCENTILE_COLUMNS, *([REFERENCE_COLUMN] if alignments is not None else []),
              *([MEASURED_COLUMN] if measured else []), *([SCANNED_COLUMN] if partial else []), *extra]
    writer.writerow(header)
    for i, result in enumerate(results):
        alignment = None if alignments is None else alignments[i]
        tail = [values[i] for values in extra.values()]
        where = {result.position(k): flag for k, flag in enumerate(result.measured)}
        reached = {result.position(k): flag for k, flag in enumerate(result.scanned)}
        for row in result.rows():
            if alignments is not None:
                ref = alignment.positions[int(row[1]) - 1]
                row = (*row, "" if ref is None else ref)
            if measured:
                row = (*row, {True: "yes", False: "no"}.get(where.get(int(row[1])), ""))
            if partial:
                row = (*row, "no" if reached.get(int(row[1])) is False else "yes")
            writer.writerow((*row, *tail))
    return buffer.getvalue()


def write_csv(results: Sequence[ScanResult], path: str | os.PathLike, alignments: Sequence | None = None,
              labels: Mapping[str, Sequence[str]] | None = None) -> None:
    """All chains' substitutions in one CSV (``csv_text``), written all-or-nothing."""
    write_text_atomic(path, csv_text(results, alignments, labels))


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
