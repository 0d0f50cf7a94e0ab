"""``--known FILE`` and ``--uniprot ACC``: known variants read or fetched before any model work, placed on each
scored chain, their agreement with the scores printed (one line per chain) and carried into every output."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from saprot_scan.cli.common import note
from saprot_scan.errors import InputError

AUTO = "auto"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--known", action="append", default=None, metavar="FILE",
                   help="known variants (repeatable): a UniProt variation JSON, an AlphaMissense CSV "
                        "(AF-ACC-F1-aa-substitutions.csv) or a CSV mutant,label; told by content")
    p.add_argument("--uniprot", nargs="?", const=AUTO, default=None, metavar="ACC",
                   help="fetch the variation JSON and AlphaMissense CSV of this UniProt accession (cached); "
                        "without ACC: the accession the structure file names (DBREF, _struct_ref, AlphaFold DB)")


def wanted(args) -> bool:
    return bool(getattr(args, "known", None) or getattr(args, "uniprot", None))


def accession_for(args, structure: str, chain: str | None = None) -> str:
    """``--uniprot ACC``, or with ``--uniprot`` alone the accession the structure file names."""
    from saprot_scan.known import accession_of

    if args.uniprot and args.uniprot != AUTO:
        return args.uniprot.strip().upper()
    found = accession_of(structure, chain)
    if not found:
        raise InputError(f"{structure} names no UniProt accession (no DBREF, _struct_ref or AlphaFold DB name); "
                         "give one: --uniprot ACC")
    return found


def load(args, structure: str | None = None, chain: str | None = None):
    """The known variants the options ask for (None when none), read and fetched now, so a bad file or an
    unknown accession fails before any model work."""
    from saprot_scan.known import combine, read_known
    from saprot_scan.known.fetch import fetch_known

    if not wanted(args):
        return None
    parts = [read_known(path) for path in args.known or []]
    if args.uniprot:
        accession = accession_for(args, structure or args.structure, chain)
        report = None if not getattr(args, "quiet", False) else (lambda text: None)
        parts.append(fetch_known(accession, report))
    known = combine(parts)
    for line in known.sources:
        note(args, f"known variants: {line}")
    return known


def place(args, known, chains, results) -> list:
    """Each result carrying its known variants (placed through an alignment of its chain); the mapping and
    agreement lines on stderr. ``chains``: the Chain of each result. Positions are read on ``--reference`` when
    one was given, else on the sequence the known variants carry."""
    from saprot_scan.conventions.reference import read_reference
    from saprot_scan.known import accession_of, align_known, attach, mapping_line

    if known is None:
        return list(results)
    reference = read_reference(args.reference) if getattr(args, "reference", None) else None
    placed = []
    for chain, result in zip(chains, results):
        named = known if known.accession else replace(known, accession=accession_of(args.structure, chain.chain_id))
        result = attach(result, named, align_known(chain, named, reference))
        note(args, mapping_line(result.known, result.chain_id))
        print(result.known["agreement"]["line"], file=sys.stderr)
        placed.append(result)
    return placed


def suggestion_columns(results: dict):
    """(KNOWN_COLUMNS, Suggestion -> their values) for the suggestions CSV; None when nothing is known."""
    from saprot_scan.outputs.tables import KNOWN_COLUMNS, known_cells

    if not any(r.known for r in results.values()):
        return None
    return KNOWN_COLUMNS, lambda s: known_cells(results[s.chain], s.index + 1, s.mt)


def suggested_lines(results: dict, singles) -> list[str]:
    """One line per suggested substitution that is a known variant (a ClinVar label or AlphaMissense's class)."""
    from saprot_scan.known.mapping import cell_marks

    lines = []
    for s in singles:
        v = cell_marks(results[s.chain].known).get((s.index + 1, s.mt))
        if v is not None and (v["label"] or v["am_class"]):
            said = [f"ClinVar {v['clinical_significance']}" if v["clinical_significance"] else "",
                    f"AlphaMissense {v['am_class']} ({v['am_pathogenicity']:.3f})" if v["am_class"] else "",
                    "in gnomAD" if v["gnomad"] else ""]
            lines.append(f"known: chain {s.chain} {s.author}: {', '.join(w for w in said if w)}")
    return lines


def listed_result(chain, variants, scores, model):
    """A chain-sized result holding only the listed single substitutions' scores (NaN elsewhere), so the known
    variants and their agreement are read over exactly what ``score`` scored."""
    import numpy as np

    from saprot_scan.encoding.tokens import AMINO_ACIDS
    from saprot_scan.results import ScanResult
    from saprot_scan.scoring.meaning import meaning_of

    matrix = np.full((len(chain), 20), np.nan)
    for variant, value in zip(variants, scores):
        if len(variant.sites) == 1:
            site = variant.sites[0]
            matrix[site.index, AMINO_ACIDS.index(site.mt)] = value
    return ScanResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids, wt=chain.sequence, scores=matrix,
                      method="masked", model_name=model.name, model_sha256=model.sha256, meaning=meaning_of(model))


def score_columns(result, variants) -> tuple[str, list[tuple]]:
    """The header tail and, per listed variant, the KNOWN_COLUMNS values (empty for multi-mutants)."""
    from saprot_scan.known.mapping import cell_marks
    from saprot_scan.outputs.tables import KNOWN_COLUMNS, known_cells

    marks = cell_marks(result.known)
    cells = [known_cells(result, v.sites[0].index + 1, v.sites[0].mt, marks) if len(v.sites) == 1
             else ("",) * len(KNOWN_COLUMNS) for v in variants]
    return "," + ",".join(KNOWN_COLUMNS), cells
