"""``batch --report F.html``: an index page of a batch output folder, linking one self-contained page per
scored structure (written beside it in ``F_pages/``); failed and skipped structures are listed with why."""
from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Sequence

#: Pages are written for at most this many structures; the index lists every one (the Parquet folder has all).
PAGE_LIMIT = 200
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STYLE = ("body{font:13px/1.4 system-ui,sans-serif;margin:12px 18px}table{border-collapse:collapse}"
          "th,td{padding:2px 10px 2px 4px;border-bottom:1px solid #eee;text-align:left}th{background:#f1f1f1}"
          ".failed{color:#a00}.muted{color:#666}code{font-family:monospace;background:#f5f5f5}")


def pages_dir(index_path: str | os.PathLike) -> Path:
    """Where the per-structure pages of an index page go: ``F_pages/`` beside ``F.html``."""
    path = Path(index_path)
    return path.with_name(path.stem + "_pages")


def _page_name(row: dict, taken: set[str]) -> str:
    base = _UNSAFE.sub("_", str(row["structure_id"])).strip("_") or "structure"
    name, n = f"{base}.html", 1
    while name in taken:  # the same structure under another model or method
        n += 1
        name = f"{base}_{n}.html"
    taken.add(name)
    return name


def known_text(row: dict) -> str:
    """The manifest's known-variant record of one structure in a few words: the accession and each chain's
    ROC AUC and Spearman (or why there are none); '' when known variants were not asked for."""
    import json

    try:
        known = json.loads(row.get("known") or "{}")
    except ValueError:
        return ""
    if not isinstance(known, dict) or not known:
        return ""
    accession = str(known.get("accession") or "")
    if known.get("reason"):
        return f"{accession}: {known['reason']}" if accession else str(known["reason"])
    parts = []
    for chain, figures in sorted((known.get("chains") or {}).items()):
        if not isinstance(figures, dict):
            continue
        if figures.get("reason"):
            parts.append(f"chain {chain}: {figures['reason']}")
            continue
        auc, rho = figures.get("roc_auc"), figures.get("spearman")
        parts.append(f"chain {chain}: ROC AUC {'too few to say' if auc is None else f'{auc:.2f}'}, "
                     f"Spearman {'too few to say' if rho is None else f'{rho:.2f}'}")
    return f"{accession}: {'; '.join(parts)}" if parts else accession


def _row_html(row: dict, link: str | None, with_known: bool) -> str:
    cells = [f'<a href="{html.escape(link)}">{html.escape(str(row["structure_id"]))}</a>' if link
             else html.escape(str(row["structure_id"])),
             f'<span class="{"" if row["status"] == "ok" else "failed"}">{html.escape(str(row["status"]))}</span>']
    cells += [html.escape("" if row.get(k) is None else str(row[k]))
              for k in ("scored_chains", "residues", "model", "method", "precision", "reason")]
    if with_known:
        cells.append(html.escape(known_text(row)))
    return "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def index_html(rows: Sequence[dict], links: dict[int, str], folder: str, command: str, left_out: int) -> str:
    """The index page: one row per manifest row, a link where a page was written."""
    from saprot_scan.report.provenance import versions

    ok = sum(r["status"] == "ok" for r in rows)
    with_known = any(known_text(row) for row in rows)
    names = ("structure", "status", "chains", "residues", "model", "method", "precision", "why")
    head = ("<tr>" + "".join(f"<th>{h}</th>" for h in names + (("known variants",) if with_known else ()))
            + "</tr>")
    body = "".join(_row_html(row, links.get(n), with_known) for n, row in enumerate(rows))
    more = (f"<p class=\"muted\">{left_out} scored structures have no page here (at most {PAGE_LIMIT} are "
            "written); their scores are in the batch folder's Parquet files.</p>" if left_out else "")
    made = " · ".join(f"{html.escape(k)} {html.escape(v)}" for k, v in versions().items())
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"generator\" "
            f"content=\"saprot-scan\"><title>saprot-scan batch report: {html.escape(folder)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>saprot-scan batch: {html.escape(folder)}</h1>"
            f"<p>{ok} of {len(rows)} structures scored. Each link opens that structure's own page (heatmap, "
            f"3D view, table).</p>{more}<table id=\"structures\"><thead>{head}</thead><tbody>{body}</tbody></table>"
            f"<p class=\"muted\">Command: <code>{html.escape(command)}</code><br>{made}</p></body></html>\n")


def write_batch_report(path: str | os.PathLike, out_dir: str | os.PathLike, argv: Sequence[str] | None = None,
                       model: int = 1, limit: int = PAGE_LIMIT) -> tuple[Path, int]:
    """Write the index page of ``out_dir`` to ``path`` and a page per scored structure (up to ``limit``)
    into ``pages_dir(path)``, their 3D view showing model ``model`` of each file. Returns the index's path
    and the number of pages written."""
    from saprot_scan.batch import read_manifest
    from saprot_scan.batch.reading import load_results
    from saprot_scan.outputs.files import write_text_atomic
    from saprot_scan.report.provenance import command_text
    from saprot_scan.report.writer import check_report_path, write_report

    path = check_report_path(path)
    rows = sorted(read_manifest(out_dir).to_pylist(), key=lambda r: (r["status"] != "ok", str(r["structure_id"])))
    folder, links, taken = pages_dir(path), {}, set()
    scored = [n for n, r in enumerate(rows) if r["status"] == "ok"]
    for n in scored[:limit]:
        row = rows[n]
        results = load_results(out_dir, row["structure_id"], model=row["model_sha256"] or row["model"],
                               method=row["method"], precision=row["precision"])
        folder.mkdir(exist_ok=True)
        name = _page_name(row, taken)
        source = row["source"] if row["source"] and Path(row["source"]).is_file() else None
        write_report(folder / name, results, structure_path=source, model=model, argv=argv)
        links[n] = f"{folder.name}/{name}"
    write_text_atomic(path, index_html(rows, links, Path(out_dir).name, command_text(argv),
                                       max(0, len(scored) - limit)))
    return path, len(links)
