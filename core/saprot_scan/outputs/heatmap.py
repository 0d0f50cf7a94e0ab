"""Substitution heatmap: positions x 20 amino acids per chain, as PNG, SVG or PDF.

Drawn with matplotlib's object API on an Agg canvas, never through pyplot, so PyMOL's and ChimeraX's own
matplotlib backends and pyplot state are left alone. Long chains wrap into rows of at most ``MAX_PER_ROW``
positions with a fixed cell size, so every residue keeps a readable label at any length.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from saprot_scan.colours import UNSCORED_HEX, colour_scale, plddt_masked
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError
from saprot_scan.outputs.suffixes import HEATMAP_SUFFIXES
from saprot_scan.results import ScanResult

FORMATS = HEATMAP_SUFFIXES
COLORMAP = "RdBu"  # red = low score = less tolerated; white = 0 (the scorer's own 0, see its ScoreMeaning); blue = more
MISSING_COLOR = UNSCORED_HEX  # residues without a score (unknown wild type): the viewers' grey
MASKED_MARK_COLOR = "#404040"  # the triangle over pLDDT-masked columns (struct token '#')
MIXED_LABEL = "scores of different scorers (see each panel's header)"
UNMEASURED_MARK_COLOR = "#9a6700"  # the cross under fitted columns no assay label touched
#: Known variants on their cells (``saprot_scan.known``): gid prefix -> (which, marker, size, colour, hollow).
KNOWN_MARKS = {"saprot-known-pathogenic": ("pathogenic", "s", 16, "#000000", True),
               "saprot-known-benign": ("benign", "o", 14, "#1a7f37", True),
               "saprot-am-pathogenic": ("LPath", "+", 5, "#303030", False)}
INTERFACE_MARK_COLOR = "#6a3d9a"  # the square above residues touching another chain of the structure
MAX_PER_ROW = 130
DPI = 150

# Layout in inches: fixed cell size keeps labels readable whatever the chain length.
_CELL = 0.13
_LEFT, _RIGHT, _MIN_PLOT = 0.55, 1.45, 6.6
_TOP, _HEADER, _GAP = 0.15, 0.45, 0.2
_FOOTER_LINE, _FOOTER_PAD, _FOOTER_CHAR = 0.16, 0.12, 0.052  # inches per legend line, around them, per 7-pt char
_MARK_ROW = 0.11  # inches per row of marks above a panel (pLDDT-masked, unmeasured, interface), kept off the title
_TITLE_CHAR, _TITLE_LINE = 0.085, 0.18  # inches per 10-pt bold character, per title line
_TICK_CHAR, _TICK_PAD = 0.052, 0.12  # inches per 6-pt monospace character of a residue label, plus the ticks
_BAR_CHAR = 0.068  # inches per 8-pt character of the colour bar's label (it wraps to the bar's height)
_SEP = "  \u00b7  "  # between the legend's items


def _rows(length: int, per_row: int) -> list[tuple[int, int]]:
    """Split ``length`` positions into balanced rows of at most ``per_row``."""
    n_rows = max(1, math.ceil(length / per_row))
    size = math.ceil(length / n_rows) if length else 1
    return [(start, min(start + size, length)) for start in range(0, max(length, 1), size)]


def _color_limits(results: Sequence[ScanResult]) -> tuple[float, float, bool, bool]:
    """Colour range shared by all chains: the viewers' rule (``saprot_scan.colours.colour_scale``, symmetric
    for substitution scores: -limit..+limit with limit the 95th percentile of |score| over the coloured cells,
    wild-type cells left out), so the heatmap and the structure agree; clipping reported."""
    values = []
    for r in results:
        masked = np.array(r.scores, dtype=float)
        for i, aa in enumerate(r.wt):
            if aa in AMINO_ACIDS:
                masked[i, AMINO_ACIDS.index(aa)] = np.nan
        values.append(masked[np.isfinite(masked)])
    finite = np.concatenate(values) if values else np.array([])
    scale = colour_scale(finite.tolist(), "substitution")
    if finite.size == 0:
        return scale.low, scale.high, False, False
    return scale.low, scale.high, bool(finite.min() < scale.low), bool(finite.max() > scale.high)


def _display_matrix(result: ScanResult) -> np.ndarray:
    """(20, L) scores for drawing; residues with an unknown wild type are NaN (grey) throughout."""
    matrix = np.array(result.scores, dtype=float).T.copy()
    for i, aa in enumerate(result.wt):
        if aa not in AMINO_ACIDS:
            matrix[:, i] = np.nan
    return matrix


def _structure_name(source: str) -> str:
    """What the reader knows the structure as: a file's name, or the viewer's own words ("PyMOL object 1abc")."""
    if not source or source.startswith(("PyMOL ", "ChimeraX ")):
        return source
    return Path(source).name


def _header(result: ScanResult) -> str:
    name = _structure_name(result.source)
    text = f"{name}  ·  " if name else ""
    text += f"Chain {result.chain_id}  ·  {len(result)} residues  ·  {result.method_text}  ·  model {result.model_name}"
    if result.model_sha256:
        text += f" (sha256 {result.model_sha256[:12]})"
    if result.plddt_mask_applied:
        text += f"  ·  pLDDT-masked {result.plddt_masked_count}"
    if result.partial:
        text += f"  ·  PARTIAL: {result.scanned_count} of {len(result)} residues scored (scan stopped)"
    return text


def _marks(result: ScanResult) -> list[tuple[str, list[bool], str, str, float]]:
    """The rows of marks this chain needs, top-down from the panel: (gid name, flag per residue, marker,
    colour, marker size). Only kinds with at least one flag take a row."""
    rows = [("plddt-masked", list(plddt_masked(result)), "v", MASKED_MARK_COLOR, 9.0),
            ("unmeasured", [not m for m in result.measured] if result.measured else [], "x", UNMEASURED_MARK_COLOR,
             7.0),
            ("interface", list(result.interface), "s", INTERFACE_MARK_COLOR, 5.0)]
    return [row for row in rows if any(row[1])]


def _wrap(text: str, width_in: float, char_in: float) -> list[str]:
    import textwrap

    return textwrap.wrap(text, max(20, int(width_in / char_in)), break_long_words=True) or [""]


def heatmap_figure(results: Sequence[ScanResult], per_row: int = MAX_PER_ROW, dpi: int = DPI):
    """A matplotlib Figure (Agg canvas attached) of the scans, one panel group per chain.

    Viewers may re-parent it onto their own canvas. Each heatmap Axes has gid ``"saprot-heatmap:CHAIN:START"``.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import TwoSlopeNorm
    from matplotlib.figure import Figure

    results = list(results)
    if not results:
        raise InputError("no scan results to draw")
    if per_row < 1:
        raise InputError(f"per_row must be at least 1, not {per_row}")
    low, high, clip_low, clip_high = _color_limits(results)
    norm = TwoSlopeNorm(vmin=low, vcenter=0.0, vmax=high)
    cmap = colormaps[COLORMAP].with_extremes(bad=MISSING_COLOR)

    layout = [(r, _rows(len(r), per_row)) for r in results]
    widest = max(stop - start for _, rows in layout for start, stop in rows)
    plot_w = max(widest * _CELL, _MIN_PLOT)
    row_h = len(AMINO_ACIDS) * _CELL
    width = _LEFT + plot_w + _RIGHT
    meanings = list(dict.fromkeys(r.meaning for r in results))
    any_masked = any(any(plddt_masked(r)) for r in results)
    legend = _wrapped(_legend(results, meanings, any_masked), int((width - _LEFT) / _FOOTER_CHAR))
    footer = 2 * _FOOTER_PAD + _FOOTER_LINE * len(legend)
    titles = [_wrap(_header(r), plot_w, _TITLE_CHAR) for r in results]  # never past the colour bar
    marks = [_marks(r) for r in results]
    labels_h = [_TICK_PAD + _TICK_CHAR * max([len(f"{a}{rid.label}") for a, rid in zip(r.wt, r.residue_ids)] or [1])
                for r in results]
    heads = [_HEADER + _TITLE_LINE * (len(t) - 1) for t in titles]
    height = _TOP + footer + sum(head + len(rows) * (row_h + _MARK_ROW * len(m) + lab + _GAP)
                                 for head, (_, rows), m, lab in zip(heads, layout, marks, labels_h))

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    frac = lambda x, y, w, h: [x / width, 1 - (y + h) / height, w / width, h / height]  # inches from top-left

    y = _TOP
    image = first_row = None
    for (result, rows), title, head, mark_rows, label_h in zip(layout, titles, heads, marks, labels_h):
        fig.text(_LEFT / width, 1 - (y + head - _HEADER * 0.45) / height, "\n".join(title), fontsize=10,
                 fontweight="bold", va="bottom", ha="left", linespacing=1.25).set_gid(f"saprot-title:{result.chain_id}")
        y += head
        matrix = _display_matrix(result)
        labels = [f"{aa}{rid.label}" for aa, rid in zip(result.wt, result.residue_ids)]
        for start, stop in rows:
            y += _MARK_ROW * len(mark_rows)
            ax = fig.add_axes(frac(_LEFT, y, (stop - start) * _CELL, row_h))
            ax.set_gid(f"saprot-heatmap:{result.chain_id}:{start}")
            image = ax.imshow(np.ma.masked_invalid(matrix[:, start:stop]), cmap=cmap, norm=norm,
                              aspect="auto", interpolation="nearest",
                              extent=(start - 0.5, stop - 0.5, len(AMINO_ACIDS) - 0.5, -0.5))
            wild = [(i, AMINO_ACIDS.index(result.wt[i])) for i in range(start, stop)
                    if result.wt[i] in AMINO_ACIDS]
            if wild:
                xs, ys = zip(*wild)
                ax.scatter(xs, ys, s=4, c="black", marker="o", linewidths=0)
            for k, (name, flags, marker, colour, size) in enumerate(mark_rows):  # one row of marks per kind
                where = [i for i in range(start, stop) if flags[i]]
                if where:
                    level = -0.5 - (k + 0.5) * _MARK_ROW / _CELL  # data units above the first amino-acid row
                    dots = ax.scatter(where, [level] * len(where), s=size, c=colour, marker=marker,
                                      linewidths=0.6 if marker == "x" else 0, clip_on=False)
                    dots.set_gid(f"saprot-{name}:{result.chain_id}:{start}")
            _known_marks(ax, result, start, stop)
            ax.set_xlim(start - 0.5, stop - 0.5)
            ax.set_ylim(len(AMINO_ACIDS) - 0.5, -0.5)
            ax.set_xticks(range(start, stop))
            ax.set_xticklabels(labels[start:stop], rotation=90, fontsize=6, family="monospace")
            ax.set_yticks(range(len(AMINO_ACIDS)))
            ax.set_yticklabels(list(AMINO_ACIDS), fontsize=6.5, family="monospace")
            ax.tick_params(length=1.5, width=0.5, pad=1)
            for spine in ax.spines.values():
                spine.set_linewidth(0.5)
            if first_row is None:
                first_row = y
            y += row_h + label_h + _GAP

    bar_h = max(row_h, 1.6)
    cax = fig.add_axes(frac(_LEFT + plot_w + 0.3, first_row, 0.15, bar_h))
    extend = {(True, True): "both", (True, False): "min", (False, True): "max"}.get((clip_low, clip_high),
                                                                                   "neither")
    bar = fig.colorbar(image, cax=cax, extend=extend)
    ticks = bar_ticks(low, high)
    bar.set_ticks(ticks, labels=[f"{t:g}".replace("-", "\u2212") for t in ticks])
    bar_label = meanings[0].label if len(meanings) == 1 else MIXED_LABEL
    bar.set_label("\n".join(_wrap(bar_label, bar_h, _BAR_CHAR)), fontsize=8)  # within the bar's height
    bar.ax.tick_params(labelsize=7)
    for line, text in enumerate(legend):
        below_top = height - footer + _FOOTER_PAD + _FOOTER_LINE * (line + 0.5)
        fig.text(_LEFT / width, 1 - below_top / height, text, fontsize=7, va="center", ha="left")
    return fig


def _known_marks(ax, result: ScanResult, start: int, stop: int) -> None:
    """Known variants drawn on their cells: ClinVar pathogenic (hollow square), benign (hollow circle) and
    AlphaMissense's likely pathogenic class (a small cross); each kind one scatter with a gid naming it."""
    if not result.known:
        return
    column = {result.position(i): i for i in range(start, stop)}
    for gid, (which, marker, size, colour, hollow) in KNOWN_MARKS.items():
        cells = [(column[v["position"]], AMINO_ACIDS.index(v["mt"])) for v in result.known["variants"]
                 if v["position"] in column and (v["label"] == which or v["am_class"] == which)]
        if cells:
            xs, ys = zip(*cells)
            style = dict(facecolors="none", edgecolors=colour, linewidths=0.7) if hollow else \
                dict(c=colour, linewidths=0.5)
            ax.scatter(xs, ys, s=size, marker=marker, **style).set_gid(f"{gid}:{result.chain_id}:{start}")


def _wrapped(lines: list[str], width: int) -> list[str]:
    """The legend's lines wrapped to the figure's width (a short chain's figure is narrow): between its
    "  ·  "-separated items where possible, so no item is cut in two unless it is wider than the figure."""
    import textwrap

    width, out = max(width, 40), []
    for line in lines:
        current = ""
        for item in line.split(_SEP):
            joined = f"{current}{_SEP}{item}" if current else item
            if len(joined) <= width or not current:
                current = joined
            else:
                out.append(current)
                current = item
        out.extend(textwrap.wrap(current, width) if len(current) > width else [current])
    return out


def _legend(results: Sequence[ScanResult], meanings: list, any_masked: bool) -> list[str]:
    """Two footer lines: what the colours say (from the scorers' declared meaning) and the marks; then the
    percentile classes and their measured precision (``scoring.percentiles``)."""
    from saprot_scan.scoring.percentiles import precision_text

    colours = (meanings[0].legend_text if len(meanings) == 1
               else "red: less tolerated  ·  blue: more tolerated (each panel in its scorer's units)")
    marks = "\u25cf wild type  ·  grey: not scored (unknown wild type)"
    if any_masked:
        marks += "  ·  \u25bc pLDDT-masked (low confidence)"
    if any(r.measured and not all(r.measured) for r in results):
        marks += "  ·  \u00d7 no assay label at this site (fitted score rests on the zero-shot term)"
    if any(r.known for r in results):
        marks += ("  ·  \u25a1 ClinVar pathogenic/likely pathogenic  ·  \u25cb benign/likely benign  ·  "
                  "+ AlphaMissense likely pathogenic")
    if any(any(r.interface) for r in results):
        marks += "  ·  \u25aa interface (an atom within 5 \u00c5 of another chain)"
    scorers = sorted({r.model_name for r in results})  # only their own precision figures, none of another scorer's
    return [f"{colours}  ·  {marks}",
            "Classes by percentile within the chain: " + precision_text(short=True, only=scorers).replace("; ", _SEP)]


#: Tick steps the colour bar may use, largest first (colour limits are multiples of a half unit).
_TICK_STEPS = (50.0, 25.0, 20.0, 10.0, 5.0, 2.5, 2.0, 1.0, 0.5, 0.25, 0.2, 0.1)


def bar_ticks(low: float, high: float) -> list[float]:
    """Ticks at one even step on both sides of 0, so the bar never reads 1-unit steps above 0 and 0.6-unit
    steps below: the largest round step that reaches the longer end in 2 to 5 ticks (the end then labelled),
    else matplotlib's choice of a round step."""
    from matplotlib.ticker import MaxNLocator

    span = max(-low, high)
    if span <= 0:
        return [0.0]
    for step in _TICK_STEPS:
        count = span / step
        if abs(count - round(count)) < 1e-9 and 2 <= round(count) <= 5:
            break
    else:
        nice = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(0.0, span)
        step = float(nice[1] - nice[0])
    below = [-k * step for k in range(int(math.floor(-low / step + 1e-9)), 0, -1)]
    above = [k * step for k in range(1, int(math.floor(high / step + 1e-9)) + 1)]
    return [round(t, 10) for t in (*below, 0.0, *above)]


def cell_pixel(fig, chain_id: str, index: int, aa: str) -> tuple[int, int]:
    """Where the cell (residue ``index`` of ``chain_id``, substitution ``aa``) is drawn in the saved
    raster, in pixels from the top-left; lets viewers map clicks and tests read colours."""
    column = AMINO_ACIDS.index(aa)
    for ax in fig.axes:
        gid = ax.get_gid() or ""
        if not gid.startswith(f"saprot-heatmap:{chain_id}:"):
            continue
        start, stop = ax.get_xlim()
        if start <= index <= stop:
            x, y = ax.transData.transform((index, column))
            return int(round(x)), int(round(fig.bbox.height - y))
    raise InputError(f"no heatmap cell for chain {chain_id} position {index}")


def save_heatmap(results: Sequence[ScanResult], path: str | os.PathLike, per_row: int = MAX_PER_ROW,
                 dpi: int = DPI) -> Path:
    """Write the heatmap as PNG, SVG or PDF (chosen by the suffix), all-or-nothing."""
    from saprot_scan.outputs.files import atomic_path, check_writable

    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"heatmap {path}: use a .png, .svg or .pdf file name")
    check_writable(path)
    fig = heatmap_figure(results, per_row=per_row, dpi=dpi)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    return path


def _metadata(fmt: str) -> dict:
    """No creation date in vector files, so the same scan gives the same bytes."""
    if fmt == "svg":
        return {"Date": None}
    if fmt == "pdf":
        return {"CreationDate": None}
    return {}
