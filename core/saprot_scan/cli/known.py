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
    from saprot_scan.known import combine, fetch_known, read_known

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
