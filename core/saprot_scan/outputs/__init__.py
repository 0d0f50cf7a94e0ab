"""Files made from scan results: the writer is chosen by the file's suffix; every file is written all-or-nothing.

``.csv`` substitution table (the public columns), ``.hgvs.csv`` ChimeraX's mutation-scores CSV (one file per
chain, ``outputs.hgvs``), ``.json`` results with metadata, ``.png``/``.svg``/``.pdf`` heatmap. The per-residue
summary CSV has no suffix of its own (``write_summary_csv``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from saprot_scan.errors import InputError
from saprot_scan.outputs.suffixes import HEATMAP_SUFFIXES, TABLE_SUFFIXES


def check_output(path: str | os.PathLike, suffixes: Sequence[str] = (*TABLE_SUFFIXES, *HEATMAP_SUFFIXES),
                 what: str = "output") -> Path:
    """Fail before any work if ``path`` has an unknown suffix or cannot be written."""
    from saprot_scan.outputs.files import check_writable

    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise InputError(f"{what} {path}: use a {', '.join(suffixes[:-1])} or {suffixes[-1]} file name")
    return check_writable(path)


def write_results(results, path: str | os.PathLike) -> Path:
    """Write ``results`` (ScanResults) to ``path`` in the format its suffix names (a ``.hgvs.csv`` name with
    several chains gives one file per chain beside it, ``name_A.hgvs.csv``, ...)."""
    suffix = Path(path).suffix.lower()
    check_output(path)
    from saprot_scan.outputs.hgvs import is_hgvs_name

    if is_hgvs_name(path):
        from saprot_scan.outputs.hgvs import write_hgvs

        write_hgvs(results, path)
    elif suffix == ".csv":
        from saprot_scan.outputs.tables import write_csv

        write_csv(results, path)
    elif suffix == ".json":
        from saprot_scan.outputs.tables import write_json

        write_json(results, path)
    else:
        from saprot_scan.outputs.heatmap import save_heatmap

        save_heatmap(results, path)
    return Path(path)
