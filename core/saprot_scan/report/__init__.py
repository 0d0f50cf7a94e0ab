"""``--report F.html``: one self-contained page a colleague can open offline in any browser.

The page holds the heatmap (hover for a substitution's score, percentile, class and marks), the structure in
3D (3Dmol.js, vendored under ``vendor/`` and inlined), coloured as the viewers colour it, a sortable and
filterable table, what the scores mean, the classes' measured precision, known-variant agreement when there
is one, and the command, versions and model hash that made it. Clicking a residue in one view selects it in
the others.

One job per module: ``provenance`` (what made the page), ``structure`` (the structure's text for the 3D view),
``data`` (results to the page's JSON), ``template`` (JSON + assets to HTML), ``writer`` (the file, checked
first and written all-or-nothing), ``index`` (the batch folder's index page).
"""
from __future__ import annotations

from saprot_scan.report.writer import REPORT_SUFFIXES, check_report_path, write_report

__all__ = ["REPORT_SUFFIXES", "check_report_path", "write_report"]
