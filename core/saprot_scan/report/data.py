"""Scan results to the JSON the page draws from: every number and colour is computed here, by the core's own
rules (``colours`` for the heatmap and the 3D colours, ``scoring.percentiles`` for classes), so the page only
draws what the viewers and the heatmap image would show."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from saprot_scan.colours import (CENTRE_HEX, INTOLERANT_HEX, TOLERATED_HEX, UNSCORED_HEX, ColourScale, colour_for,
                                 colour_scale, plddt_masked)
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.scoring.percentiles import (CLASSES, DAMAGING_AT, TOLERATED_AT, class_of, class_precision,
                                             precision_text)

#: The residue summary the 3D view colours by (the viewers' default).
SUMMARY = "mean"
#: One letter per cell for its class (the page's legend spells them out); "-" at the wild type and unscored cells.
CLASS_LETTERS = {CLASSES[0]: "d", CLASSES[1]: "u", CLASSES[2]: "t", "": "-"}


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(255 * c):02x}" for c in rgb)


def _substitution_values(results: Sequence) -> list[float]:
    """Every scored substitution of every chain (the wild type's 0 left out), for the heatmap's one scale."""
    values: list[float] = []
    for r in results:
        matrix = np.array(r.scores, dtype=float)
        for i, aa in enumerate(r.wt):
            if aa in AMINO_ACIDS:
                matrix[i, AMINO_ACIDS.index(aa)] = np.nan
            else:
                matrix[i] = np.nan
        values.extend(matrix[np.isfinite(matrix)].tolist())
    return values


def _scale(scale: ColourScale) -> dict:
    return {"low": scale.low, "centre": scale.centre, "high": scale.high,
            "colours": [INTOLERANT_HEX, CENTRE_HEX, TOLERATED_HEX], "text": scale.describe()}


def _marks(variant: dict) -> dict:
    """What the page says about one known substitution (the known-variant block's own fields)."""
    return {"label": variant.get("label") or "", "clinical": variant.get("clinical_significance") or "",
            "gnomad": bool(variant.get("gnomad")), "am_class": variant.get("am_class") or "",
            "am_score": variant.get("am_pathogenicity")}


def _known(result) -> tuple[dict, dict]:
    """The chain's known variants as cell marks ({row index: {mutant letter: marks}}) and its agreement
    figures, from the block ``saprot_scan.known`` attaches as ``result.known``; ({}, {}) without one."""
    block = getattr(result, "known", None) or {}
    if not block:
        return {}, {}
    rows = {result.position(i): i for i in range(len(result))}
    marks: dict[str, dict] = {}
    for variant in block.get("variants") or []:
        index = rows.get(variant.get("position"))
        if index is not None and variant.get("mt") in AMINO_ACIDS:
            marks.setdefault(str(index), {})[variant["mt"]] = _marks(variant)
    figures = block.get("agreement") or {}
    return marks, {"accession": block.get("accession") or "", "sources": list(block.get("sources") or []),
                   "mapping": (block.get("mapping") or {}).get("text") or "", "line": figures.get("line") or "",
                   "roc_auc": (figures.get("roc_auc") or {}).get("text") or "",
                   "spearman": (figures.get("spearman") or {}).get("text") or "",
                   "disagreements": list(figures.get("disagreements") or [])}


def _chain(result, cells: ColourScale, residues: ColourScale) -> dict:
    saved = result.to_dict()
    percentiles = result.percentiles()
    means = result.summary(SUMMARY)
    masked = plddt_masked(result)
    rows, colours, classes = [], [], []
    for i, (row, wt) in enumerate(zip(saved["residues"], result.wt)):
        scored = wt in AMINO_ACIDS
        rows.append({"label": row["residue"], "position": row["position"], "wt": wt,
                     "mean": row["mean"], "colour": _hex(colour_for(float(means[i]), residues)),
                     **({"masked": True} if masked[i] else {}),
                     **({"measured": bool(row["measured"])} if "measured" in row else {})})
        colours.append([_hex(colour_for(float(v), cells)) if scored and aa != wt else UNSCORED_HEX
                        for aa, v in zip(AMINO_ACIDS, result.scores[i])])
        classes.append("".join(CLASS_LETTERS[class_of(p) if scored and aa != wt else ""]
                               for aa, p in zip(AMINO_ACIDS, percentiles[i])))
    known, agreement = _known(result)
    return {"chain": result.chain_id, "model": result.model_name, "model_sha256": result.model_sha256,
            "method": result.method_text, "source": result.source, "notes": list(result.notes),
            "meaning": {"label": result.meaning.label, "describe": result.meaning.describe(),
                        "legend": result.meaning.legend_text},
            "residues": rows, "scores": [row["scores"] for row in saved["residues"]],
            "percentiles": [row["percentiles"] for row in saved["residues"]], "classes": classes,
            "cells": colours, "known": known, "agreement": agreement}


def report_data(results: Sequence, *, title: str, structure: dict | None, provenance: dict,
                suggestions: list[dict] | None = None) -> dict:
    """Everything the page shows, JSON-able. Known variants and their agreement come with each result
    (``result.known``, when known variants were given)."""
    cells = colour_scale(_substitution_values(results), "substitution")
    residues = colour_scale([v for r in results for v in r.summary(SUMMARY).tolist()], SUMMARY)
    precision = class_precision()
    return {
        "title": title, "amino_acids": AMINO_ACIDS, "summary": SUMMARY,
        "cell_scale": _scale(cells), "residue_scale": _scale(residues), "unscored": UNSCORED_HEX,
        "chains": [_chain(r, cells, residues) for r in results], "structure": structure,
        "classes": {"names": {letter: name for name, letter in CLASS_LETTERS.items() if name},
                    "damaging_at": DAMAGING_AT, "tolerated_at": TOLERATED_AT, "text": precision_text(short=True),
                    "scorers": precision.get("scorers") or {}, "assays": precision.get("assays")},
        "suggestions": suggestions or [], "provenance": provenance,
    }
