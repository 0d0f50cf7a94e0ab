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
#: Appended when known variants were given (``saprot_scan.known``): empty where nothing is known.
KNOWN_COLUMNS = ("clinical_significance", "known_label", "gnomad", "am_pathogenicity", "am_class")


def known_cells(result: ScanResult, position: int, mt: str, marks: dict | None = None) -> tuple:
    """The KNOWN_COLUMNS values of one substitution (chain position, mutant letter)."""
    from saprot_scan.known.mapping import cell_marks

    v = (marks if marks is not None else cell_marks(result.known)).get((position, mt))
    if v is None:
        return ("",) * len(KNOWN_COLUMNS)
    return (v["clinical_significance"], v["label"], "yes" if v["gnomad"] else "",
            "" if v["am_pathogenicity"] is None else v["am_pathogenicity"], v["am_class"])


#: Appended when a result knows which residues touch another chain of the file (yes/no).
INTERFACE_COLUMN = "interface"


def _yes_no(flag) -> str:
    return {True: "yes", False: "no"}.get(flag, "")


#: Appended when a result is partial (a stopped scan): yes where the residue was scored, no where not (empty score).
SCANNED_COLUMN = "scanned"


def csv_text(results: Sequence[ScanResult], alignments: Sequence | None = None,
             labels: Mapping[str, Sequence[str]] | None = None) -> str:
    """The substitution CSV; with ``alignments`` (one ``conventions.reference.ReferenceAlignment`` per result)
    a column ``reference_position`` (empty where a residue is not in the reference); with ``labels``, one more
    column per entry, e.g. ``{"object": ["1abc", "2xyz"]}`` (one value per result), so rows of two structures
    that share chain ids stay apart. The seven contract columns always come first, in their order, then
    percentile and class; ``measured`` (yes/no) when any result is a fitted one that knows its labelled sites;
    KNOWN_COLUMNS when any result carries known variants."""
    from saprot_scan.known.mapping import cell_marks

    extra = dict(labels or {})
    for name, values in extra.items():
        if len(values) != len(results):
            raise ValueError(f"column {name!r} has {len(values)} values for {len(results)} results")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    measured = any(r.measured for r in results)
    known = any(r.known for r in results)
    interface = any(r.interface for r in results)
    partial = any(r.partial for r in results)
    header = [*CSV_COLUMNS, *PERCENTILE_COLUMNS, *([REFERENCE_COLUMN] if alignments is not None else []),
              *([MEASURED_COLUMN] if measured else []), *([INTERFACE_COLUMN] if interface else []),
              *([SCANNED_COLUMN] if partial else []), *(KNOWN_COLUMNS if known else ()), *extra]
    writer.writerow(header)
    for i, result in enumerate(results):
        alignment = None if alignments is None else alignments[i]
        tail = [values[i] for values in extra.values()]
        where = {result.position(k): flag for k, flag in enumerate(result.measured)}
        marks = cell_marks(result.known)
        touching = {result.position(k): flag for k, flag in enumerate(result.interface)}
        reached = {result.position(k): flag for k, flag in enumerate(result.scanned)}
        for row in result.rows():
            if alignments is not None:
                ref = alignment.positions[int(row[1]) - 1]
                row = (*row, "" if ref is None else ref)
            if measured:
                row = (*row, _yes_no(where.get(int(row[1]))))
            if interface:
                row = (*row, _yes_no(touching.get(int(row[1]))))
            if partial:
                row = (*row, "no" if reached.get(int(row[1])) is False else "yes")
            if known:
                row = (*row, *known_cells(result, int(row[1]), row[4], marks))
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
    """Per-residue summary table: chain, position, residue, wt, mean, min, max over the 19 substitutions (and
    ``interface`` yes/no when a result knows its contacts with other chains)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    interface = any(r.interface for r in results)
    writer.writerow((*SUMMARY_COLUMNS, *([INTERFACE_COLUMN] if interface else [])))
    for r in results:
        mean, low, high = r.summary("mean"), r.summary("min"), r.summary("max")
        for i, rid in enumerate(r.residue_ids):
            writer.writerow((r.chain_id, r.position(i), rid.label, r.wt[i],
                             *(f"{v:.6f}" if np.isfinite(v) else "" for v in (mean[i], low[i], high[i])),
                             *([_yes_no(r.interface[i]) if r.interface else ""] if interface else [])))
    return buffer.getvalue()



def write_summary_csv(results: Sequence[ScanResult], path: str | os.PathLike) -> None:
    """The per-residue summary table, written all-or-nothing."""
    write_text_atomic(path, summary_csv_text(results))


def read_json(path: str | os.PathLike) -> list[ScanResult]:
    """The results a ``write_json`` file holds."""
    with open(path, encoding="utf-8") as handle:
        return [ScanResult.from_dict(chain) for chain in json.load(handle)["chains"]]
