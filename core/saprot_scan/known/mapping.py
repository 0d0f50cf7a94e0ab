"""Known variants placed on a scanned chain, through an alignment to the sequence their positions refer to.

UniProt positions are never taken for the structure's numbers: the chain is aligned to the known sequence
(``--reference`` when given, else the variation JSON's sequence, else the one AlphaMissense's wild types spell)
with ``conventions.reference``, and identity and coverage are reported. Only a lab's list without any sequence
is read in the structure's author numbers (said in the mapping). A variant whose wild type differs from the
chain's residue is left out and counted.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from saprot_scan.conventions.reference import Reference, ReferenceAlignment, align_to_reference
from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.known.agreement import measure
from saprot_scan.known.variants import AM_CLASSES, BENIGN, PATHOGENIC, KnownVariants


def known_reference(known: KnownVariants, reference: Reference | None = None) -> Reference | None:
    """The sequence the known positions refer to: the user's ``--reference`` first, else the sources' own."""
    if reference is not None:
        return reference
    if known.sequence:
        return Reference(known.accession or "known variants", known.sequence)
    return None


def align_known(chain, known: KnownVariants, reference: Reference | None = None) -> ReferenceAlignment | None:
    """The chain's alignment to the known variants' sequence (None: no sequence, author numbers are used).
    Refuses (InputError) a chain below 50% identity, as ``--reference`` does."""
    target = known_reference(known, reference)
    return None if target is None else align_to_reference(chain, target)


def _mapping(result, known: KnownVariants, alignment: ReferenceAlignment | None) -> tuple[dict, dict]:
    """(known position -> result row, the mapping's description for the JSON)."""
    rows_of = {result.position(r): r for r in range(len(result))}
    if alignment is None:
        where = {rid.number: r for r, rid in enumerate(result.residue_ids) if not rid.icode}
        return where, {"how": "author residue numbers (no sequence for the known positions)"}
    where = {p: rows_of[i + 1] for i, p in enumerate(alignment.positions) if p is not None and i + 1 in rows_of}
    lo, hi = alignment.span()
    return where, {"how": "alignment", "reference": alignment.reference.name,
                   "reference_length": len(alignment.reference.sequence),
                   "identity": round(alignment.identity, 4), "chain_identity": round(alignment.chain_identity, 4),
                   "coverage": round(alignment.coverage, 4), "aligned": alignment.aligned,
                   "reference_span": [lo, hi], "text": alignment.describe()}


def _number(value) -> float | None:
    return None if value is None or not np.isfinite(value) else round(float(value), 6)


def _row(result, percentiles, r: int, mt: str, reference_position: int | None, *, clinical: str, label: str,
         gnomad: bool, am_pathogenicity, am_class: str) -> dict:
    """One known substitution at row ``r`` of ``result``, with its score and percentile there."""
    k = AMINO_ACIDS.index(mt)
    return {"mutant": f"{result.wt[r]}{result.position(r)}{mt}", "position": result.position(r),
            "residue": result.residue_ids[r].label, "reference_position": reference_position, "wt": result.wt[r],
            "mt": mt, "clinical_significance": clinical, "label": label, "gnomad": gnomad,
            "am_pathogenicity": am_pathogenicity, "am_class": am_class, "score": _number(result.scores[r, k]),
            "percentile": _number(percentiles[r, k])}


def annotate(result, known: KnownVariants, alignment: ReferenceAlignment | None = None) -> dict:
    """The "known_variants" block of one chain (see the package docstring): mapped variants with this result's
    scores, the mapping, and the agreement."""
    where, mapping = _mapping(result, known, alignment)
    percentiles = result.percentiles()
    rows, outside, differs = [], 0, 0
    for (position, wt, mt), variant in sorted(known.variants.items()):
        r = where.get(position)
        if r is None:
            outside += 1
            continue
        if result.wt[r] != wt:
            differs += 1
            continue
        rows.append(_row(result, percentiles, r, mt, position, clinical="; ".join(variant.clinical),
                         label=variant.label, gnomad=variant.gnomad, am_pathogenicity=variant.am_pathogenicity,
                         am_class=variant.am_class))
    mapping.update(mapped=len(rows), outside=outside, wild_type_differs=differs)
    return {"accession": known.accession, "sources": list(known.sources), "counts": known.counts(),
            "mapping": mapping, "variants": rows, "agreement": measure(rows, result.chain_id, known.accession)}


def attach(result, known: KnownVariants, alignment: ReferenceAlignment | None = None):
    """``result`` carrying its "known_variants" block (written to every output, shown by the viewers)."""
    return replace(result, known=annotate(result, known, alignment))


def mapping_line(block: dict, chain: str) -> str:
    """One line on how the known variants were placed on the chain."""
    m = block["mapping"]
    how = (f"aligned to {m['reference']} ({m['reference_length']} residues): identity {100 * m['identity']:.1f}%, "
           f"coverage {100 * m['coverage']:.1f}%" if m["how"] == "alignment" else m["how"])
    left = [f"{m['outside']} outside the chain"] if m["outside"] else []
    left += [f"{m['wild_type_differs']} with another wild type"] if m["wild_type_differs"] else []
    return (f"known variants on chain {chain}: {m['mapped']} placed, {how}"
            + (f"; left out: {', '.join(left)}" if left else ""))


def cell_marks(block: dict | None) -> dict[tuple[int, str], dict]:
    """(chain position, mutant letter) -> the variant's row, for the heatmap and tables."""
    return {(v["position"], v["mt"]): v for v in (block or {}).get("variants", [])}


def residues_with(block: dict | None, what: str) -> list[str]:
    """Author labels of residues with at least one variant of a kind: pathogenic, benign (ClinVar labels),
    gnomad, or an AlphaMissense class (LPath, Amb, LBen); in chain order."""
    labels = []
    for v in (block or {}).get("variants", []):
        hit = v["label"] == what if what in ("pathogenic", "benign") else v["gnomad"] if what == "gnomad" \
            else v["am_class"] == what if what in AM_CLASSES else False
        if hit and v["residue"] not in labels:
            labels.append(v["residue"])
    return labels


def reloaded_block(result, marks: dict[tuple[int, str], dict], accession: str, sources: str) -> dict | None:
    """The "known_variants" block of a chain read back from a batch folder, which stores each substitution's
    known-variant columns beside its score (``batch.work.KNOWN_COLUMNS``): the variants with the stored scores,
    and the agreement measured again on them (the same numbers the batch printed: same scores, fixed seed).
    The positions the known sources used are not stored, so the mapping says where the block came from.
    None when no substitution of the chain carries anything known."""
    if not marks:
        return None
    percentiles = result.percentiles()
    rows = [_row(result, percentiles, position - 1, mt, None, clinical=v.get("clinical_significance") or "",
                 label=v.get("known_label") or "", gnomad=bool(v.get("gnomad")),
                 am_pathogenicity=v.get("am_pathogenicity"), am_class=v.get("am_class") or "")
            for (position, mt), v in sorted(marks.items()) if 0 < position <= len(result) and mt in AMINO_ACIDS]
    mapping = {"how": f"as placed when {sources} was scored", "mapped": len(rows), "outside": 0,
               "wild_type_differs": 0}
    counts = {"variants": len(rows), "pathogenic": sum(v["label"] == PATHOGENIC for v in rows),
              "benign": sum(v["label"] == BENIGN for v in rows), "gnomad": sum(v["gnomad"] for v in rows),
              "alphamissense": sum(v["am_pathogenicity"] is not None for v in rows)}
    return {"accession": accession, "sources": [sources], "counts": counts, "mapping": mapping, "variants": rows,
            "agreement": measure(rows, result.chain_id, accession)}
