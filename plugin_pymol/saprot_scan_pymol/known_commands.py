"""``saprot_known``: known variants (UniProt/ClinVar/gnomAD, AlphaMissense, a lab's list) placed on the scored
chains; the agreement of the scores with them in the log, and one selection per kind (``saprot_known_pathogenic``,
``saprot_known_benign``, ``saprot_known_gnomad``, ``saprot_am_pathogenic``, ...). The core does the work."""
from __future__ import annotations

from pymol import cmd

from . import feedback
from .arguments import user_command
from .core_link import PluginError, core
from .guards import forget_deleted_objects, not_while_scanning
from .store import STORE


def attach_known(files: str = "", uniprot: str = "", reference: str = "", *, _self=cmd) -> list:
    """Read or fetch the known variants, place them on every scored chain, log, select; returns the results."""
    core()
    from saprot_scan.viewers import read_known_variants

    if not STORE.scores:
        raise PluginError("nothing scored yet; run saprot_scan first")
    paths = [_self.exp_path(p) for p in str(files or "").replace(",", " ").split()]
    known = read_known_variants(paths, uniprot, report=feedback.say)
    for line in known.sources:
        feedback.say(f"known variants: {line}")
    return place(known, _self.exp_path(reference) if str(reference or "").strip() else "", _self=_self)


def place(known, reference: str = "", *, _self=cmd) -> list:
    """``known`` on every scored chain: stored with its result, logged, selected."""
    from dataclasses import replace

    from saprot_scan.viewers import with_known

    placed = []
    with STORE.lock:
        for key, entry in sorted(STORE.scores.items()):
            STORE.scores[key] = replace(entry, result=with_known(entry.result, known, reference))
            placed.append(STORE.scores[key])
    show_known(placed, _self=_self)
    return [entry.result for entry in placed]


def show_known(entries, *, _self=cmd) -> None:
    """Log each stored chain's known-variant mapping and agreement, then make the selections (after
    ``saprot_known``, or ``saprot_load`` of a batch folder that was given known variants)."""
    from saprot_scan.viewers import known_lines

    for entry in entries:
        for line in known_lines(entry.result):
            feedback.say(f"{entry.key.label}: {line}")
    select_known(_self=_self)


def select_known(*, _self=cmd) -> dict[str, int]:
    """One selection per kind of known variant (``saprot_scan.viewers.KNOWN_NAMES``); none when empty."""
    from saprot_scan.viewers import KNOWN_NAMES, known_residues

    counts = {}
    for name in KNOWN_NAMES:
        parts = []
        for key, entry in STORE.scores.items():
            labels = [label.replace("-", "\\-") for label in known_residues(entry.result, name)]
            if labels:
                parts.append(f"({key.selection()} and resi " + "+".join(labels) + ")")
        _self.delete(name)
        if parts:
            _self.select(name, " or ".join(parts), enable=0)
            counts[name] = _self.count_atoms(f"{name} and name CA")
    if counts:
        feedback.say("selections: " + ", ".join(f"{n} ({c} residues)" for n, c in counts.items()))
    return counts


@user_command
def saprot_known(files: str = "", uniprot: str = "", reference: str = "", *, _self=cmd):
    '''
DESCRIPTION

    "saprot_known" puts what is already known about the scored protein beside its scores:
    ClinVar significance and gnomAD presence (a UniProt variation JSON), AlphaMissense scores
    and classes (AlphaFold DB's AF-ACC-F1-aa-substitutions.csv), or a lab's CSV mutant,label.
    UniProt positions are placed through an alignment of the chain to the known sequence
    (identity and coverage logged). The log gets the agreement (ROC AUC for pathogenic vs
    benign, Spearman against AlphaMissense); selections saprot_known_pathogenic,
    saprot_known_benign, saprot_known_gnomad, saprot_am_pathogenic, saprot_am_ambiguous and
    saprot_am_benign name the residues; saprot_csv and saprot_heatmap show them too.

USAGE

    saprot_known [ files [, uniprot [, reference ]]]

ARGUMENTS

    files = str: known-variant files, separated by spaces {default: none}
    uniprot = str: a UniProt accession to fetch (needs the network; cached) {default: none}
    reference = str: a FASTA file whose numbering the files use {default: their own sequence}

EXAMPLES

    saprot_known P00698.json AF-P00698-F1-aa-substitutions.csv
    saprot_known uniprot=P00698

SEE ALSO

    saprot_scan, saprot_csv, saprot_heatmap
    '''
    not_while_scanning()
    forget_deleted_objects(_self=_self)
    results = attach_known(files, uniprot, reference, _self=_self)
    return {r.chain_id: r.known["agreement"] for r in results}
