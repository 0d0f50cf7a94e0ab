"""Known variants beside the scores: ClinVar/gnomAD (UniProt variation JSON), AlphaMissense, a lab's own list.

Public API (what the CLI, the viewers and the HTML report use)::

    from saprot_scan.known import read_known, combine, align_known, attach, agreement
    from saprot_scan.known.fetch import fetch_known   # --uniprot: the EBI Proteins API and AlphaFold DB
    known = combine([read_known("P00698.json"), read_known("AF-P00698-F1-aa-substitutions.csv")])
    alignment = align_known(chain, known)          # None: no sequence, author numbers are used
    result = attach(result, known, alignment)      # result.known holds the block below
    agreement(result)["line"]                      # "known variants (chain A, P00698): ROC AUC ...; Spearman ..."

JSON shape: each chain of ``--json`` (``ScanResult.to_dict``) gains ``"known_variants"``::

    {"accession": "P00698", "sources": ["P00698.json: UniProt variation JSON of P00698, 40 substitutions", ...],
     "counts": {"variants", "pathogenic", "benign", "gnomad", "alphamissense"},       # over all sources
     "mapping": {"how": "alignment", "reference", "reference_length", "identity", "chain_identity", "coverage",
                 "aligned", "reference_span": [lo, hi], "text", "mapped", "outside", "wild_type_differs"},
                 # how = "author residue numbers (...)" when no sequence was known (then only mapped/outside/...)
     "variants": [{"mutant": "K1A" (chain position), "position", "residue" (author label), "reference_position",
                   "wt", "mt", "clinical_significance" ("Pathogenic; Likely pathogenic"), "label" (pathogenic,
                   benign, conflicting, another label in lower case, or ""), "gnomad" (bool),
                   "am_pathogenicity" (float or null), "am_class" (LBen/Amb/LPath or ""), "score", "percentile"}],
     "agreement": {
         "roc_auc": {"value", "low", "high" (95% bootstrap interval; null when too few), "pathogenic", "benign"
                     (counts), "minimum" (per group), "enough" (bool), "bootstrap", "confidence", "text"},
         "spearman": {"value" (null when too few), "n", "minimum", "enough", "against": "-am_pathogenicity",
                      "text"},
         "disagreements": [{"mutant", "residue", "reference_position", "score", "am_pathogenicity", "am_class",
                            "score_rank", "alphamissense_rank" (percentiles, 100 = most tolerated), "gap"
                            (score_rank - alphamissense_rank), "direction"}],   # largest |gap| first, 10 at most
         "line": the printed line, naming "ROC AUC" and "Spearman"}}

The substitution CSV (and batch's Parquet) gains ``clinical_significance, known_label, gnomad, am_pathogenicity,
am_class`` when known variants were given.
"""
from __future__ import annotations

from saprot_scan.errors import InputError
from saprot_scan.known.accession import accession_of, is_accession
from saprot_scan.known.agreement import MIN_PER_CLASS, MIN_SPEARMAN, measure
from saprot_scan.known.formats import read_known
from saprot_scan.known.mapping import align_known, annotate, attach, cell_marks, mapping_line, residues_with
from saprot_scan.known.variants import AM_CLASSES, KnownVariant, KnownVariants

__all__ = ["AM_CLASSES", "KnownVariant", "KnownVariants", "MIN_PER_CLASS", "MIN_SPEARMAN", "accession_of",
           "agreement", "align_known", "annotate", "attach", "cell_marks", "combine",
           "is_accession", "mapping_line", "measure", "read_known", "residues_with"]


def combine(parts: list[KnownVariants]) -> KnownVariants:
    """Every source's variants together; sources naming two different accessions are refused."""
    names = sorted({p.accession for p in parts if p.accession})
    if len(names) > 1:
        raise InputError(f"the known-variant files are of different proteins ({', '.join(names)}); "
                         "give the files of one protein")
    out = KnownVariants()
    for part in parts:
        out = out.merge(part)
    return out


def agreement(result, known: KnownVariants | None = None, alignment=None) -> dict:
    """The agreement block of ``result`` with ``known`` (placed through ``alignment``), or with the known
    variants the result already carries (``result.known``, e.g. read back from a JSON file)."""
    if known is not None:
        return annotate(result, known, alignment)["agreement"]
    if not getattr(result, "known", None):
        raise InputError(f"chain {result.chain_id} carries no known variants")
    return result.known["agreement"]

