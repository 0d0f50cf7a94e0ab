"""HTML for the ChimeraX log: what was scored, by which model, and links to act on it."""
from __future__ import annotations

from html import escape

import numpy as np

from .store import StoredScan


def residue_spec(scan: StoredScan, residue_ids) -> str:
    """ChimeraX spec for residues of one scanned chain, e.g. ``#1/A:12,40,52A``."""
    labels = ",".join(r.label for r in residue_ids)
    return f"{scan.target.label}:{labels}"


def most_intolerant(scan: StoredScan, kind: str, count: int = 10) -> list[int]:
    """Indices of the ``count`` residues with the lowest summary score."""
    values = np.asarray(scan.result.summary(kind), dtype=float)
    order = [int(i) for i in np.argsort(values, kind="stable") if np.isfinite(values[i])]
    return order[:count]


def describe_summary(kind: str) -> str:
    """What the per-residue number is, in words."""
    words = {"mean": "mean of the 19 substitution scores", "min": "lowest of the 19 substitution scores",
             "max": "highest of the 19 substitution scores"}
    return words.get(kind, f"score of the substitution to {kind}")


def _link(command: str, text: str) -> str:
    return f'<a href="cxcmd:{escape(command, quote=True)}">{escape(text)}</a>'


def scan_summary_html(scans: list[StoredScan], kind: str, counts: list[dict], heatmap_path: str | None,
                      csv_path: str | None, limit: float, scale_text: str = "white 0") -> str:
    """One table row per chain plus links: select the ten most intolerant residues, their scores, the heatmap."""
    rows = []
    for scan, count in zip(scans, counts):
        worst = most_intolerant(scan, kind)
        ids = [scan.result.residue_ids[i] for i in worst]
        links = []
        if ids:
            links.append(_link(f"select {residue_spec(scan, ids)}",
                               f"select the {len(ids)} most intolerant residues"))
            first = residue_spec(scan, ids[:1])
            links.append(_link(f"saprot mutations {first}", f"substitutions of {ids[0].label}"))
        notes = "; ".join(escape(n) for n in scan.result.notes)
        rows.append(
            "<tr>"
            f"<td>{escape(scan.target.label)}</td>"
            f"<td>{escape(scan.target.structure.name)}</td>"
            f"<td>{count['scored']}</td>"
            f"<td>{escape(scan.result.method)}</td>"
            f"<td>{escape(', '.join(r.label for r in ids[:5]))}</td>"
            f"<td>{' | '.join(links)}{'<br>' + notes if notes else ''}</td>"
            "</tr>")
    model = escape(scans[0].model_line) if scans else ""
    extra = []
    if heatmap_path:
        extra.append(_link(f"saprot heatmap {_quote(heatmap_path)} open true", "open the heatmap"))
    else:
        extra.append(_link("saprot heatmap saprot_heatmap.png open true", "save and open a heatmap"))
    if csv_path:
        extra.append(f"scores written to {escape(csv_path)}")
    extra.append(_link(f"select ::{'saprot_score'}<-{limit / 2:g}", f"select residues scoring below -{limit / 2:g}"))
    from saprot_scan.viewers import PERCENTILE_ATTR, classes_line, score_words
    words = "<br>".join(escape(w) for w in dict.fromkeys(score_words(s.result) for s in scans))
    return (
        f"<p><b>saprot scan</b>: {model}<br>colour = {escape(describe_summary(kind))} "
        f"(red intolerant, blue tolerated, {escape(scale_text)}, beyond clipped; grey unscored); "
        f"residue attributes <i>saprot_score</i> and <i>{PERCENTILE_ATTR}</i> (the same summary over each "
        f"substitution's percentile within its chain)<br>{words}<br>{escape(classes_line())}</p>"
        "<table border=1 cellpadding=2 style='border-collapse:collapse'>"
        "<tr><th>chain</th><th>structure</th><th>scored</th><th>method</th>"
        "<th>most intolerant</th><th>actions</th></tr>"
        + "".join(rows) + "</table><p>" + " | ".join(extra) + "</p>")


def mutations_html(scan: StoredScan, index: int) -> str:
    """The 19 substitution scores of one residue, best tolerated first."""
    from saprot_scan.viewers import classes_line, score_words, substitution_rows
    rid = scan.result.residue_ids[index]
    wt = scan.result.wt[index]
    rows = "".join(f"<tr><td>{escape(wt)}{escape(rid.label)}{escape(mt)}</td><td>{score:.3f}</td>"
                   f"<td>{percentile:.1f}</td><td>{escape(kind)}</td></tr>"
                   for mt, score, percentile, kind in substitution_rows(scan.result, index))
    site = ""
    if scan.result.measured:
        site = "; measured site" if scan.result.measured[index] else "; no assay label at this site"
    return (f"<p><b>Substitutions of {escape(scan.target.label)}:{escape(rid.label)} ({escape(wt)})</b>, "
            f"best tolerated first; {escape(score_words(scan.result))}; {escape(scan.result.method)}-marginal, "
            f"{escape(scan.model_line)}{site}<br>{escape(classes_line())}</p>"
            f"<table border=1 cellpadding=2 style='border-collapse:collapse'>"
            f"<tr><th>mutant</th><th>score</th><th>percentile</th><th>class</th></tr>{rows}</table>")


def _quote(path: str) -> str:
    return f'"{path}"' if " " in path else path
