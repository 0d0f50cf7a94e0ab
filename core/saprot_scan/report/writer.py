"""The report file: its name checked before any work, its page written all-or-nothing."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from saprot_scan.errors import InputError

REPORT_SUFFIXES = (".html", ".htm")


def check_report_path(path: str | os.PathLike) -> Path:
    """Fail before any model work when ``--report`` names no .html file or one that cannot be written."""
    from saprot_scan.outputs.files import check_writable

    path = Path(path)
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise InputError(f"--report {path}: use a .html file name")
    return check_writable(path)


def page_title(results: Sequence, structure_name: str = "") -> str:
    """``1aki.cif, chain A: saprot-scan report``."""
    chains = ", ".join(str(r.chain_id) for r in results)
    name = structure_name or (Path(results[0].source).name if results and results[0].source else "")
    lead = f"{name}, chain{'s' if len(results) > 1 else ''} {chains}" if name else f"chains {chains}"
    return f"{lead}: saprot-scan report"


def write_report(path: str | os.PathLike, results: Sequence, *, structure_path: str | os.PathLike | None = None,
                 model: int = 1, argv: Sequence[str] | None = None, suggestions: list[dict] | None = None) -> Path:
    """Write the self-contained page of ``results`` (ScanResults of one structure) to ``path``.

    ``structure_path``: the PDB/mmCIF file the 3D view shows, its model ``model`` (none: the page says there
    is no 3D view);
    ``argv``: the command's arguments, shown as the command that made the page; ``suggestions``: rows of
    ``suggest`` (kind, rank, chain, mutant, index, score). Known variants come with the results."""
    from saprot_scan.outputs.files import write_text_atomic
    from saprot_scan.report.data import report_data
    from saprot_scan.report.provenance import provenance
    from saprot_scan.report.structure import structure_for_page
    from saprot_scan.report.template import render_page

    if not results:
        raise InputError("a report needs at least one scored chain")
    path = check_report_path(path)
    structure = structure_for_page(structure_path, model)
    data = report_data(results, title=page_title(results, structure["name"] if structure else ""),
                       structure=structure, provenance=provenance(argv, results), suggestions=suggestions)
    write_text_atomic(path, render_page(data))
    return path
