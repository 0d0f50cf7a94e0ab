"""``saprot-scan scan``: every substitution of every chain scored, written as CSV, JSON, heatmap."""
from __future__ import annotations

from pathlib import Path

from saprot_scan.cli import known as known_variants
from saprot_scan.cli.common import (EXIT_OK, check_report, note, only_chain, progress_bar, read_chains,
                                    write_scan_outputs)
from saprot_scan.cli.fit import apply_for_scan, check_fitted_for_scan, fitted_for_scan
from saprot_scan.errors import InputError


def _numberings(args, chains):
    """Per chain: its Numbering (with the reference alignment when --reference is given, reported on stderr)
    and the 0-based indices --residues selects (None: every residue)."""
    from saprot_scan.conventions.numbering import Numbering, default_numbering
    from saprot_scan.conventions.reference import align_to_reference, read_reference

    kind = default_numbering(args.numbering, bool(args.reference))
    reference = read_reference(args.reference) if args.reference else None
    numberings, selections = [], []
    for chain in chains:
        alignment = align_to_reference(chain, reference) if reference is not None else None
        numbering = Numbering(chain, kind, alignment)
        numberings.append(numbering)
        selections.append(numbering.select(args.residues) if args.residues else None)
    for numbering in numberings:  # reported once every chain is known to be usable (a failure is one line)
        if numbering.alignment is not None:
            note(args, numbering.alignment.describe())
    return numberings, selections


def _write_hgvs(args, results) -> None:
    from saprot_scan.outputs.hgvs import left_out_text, write_hgvs

    for (path, table), result in zip(write_hgvs(results, args.csv_hgvs), results):
        left_out = left_out_text(table)
        note(args, f"wrote {path} ({table.rows} substitutions of chain {result.chain_id}"
                   + (f"; {left_out}" if left_out else "") + ")")


def _scan_one(args, model, chain, selected):
    """One chain's scan, its time estimate said first and the time left shown while it runs. A Ctrl-C keeps
    the residues a masked scan finished in the result cache (the rerun reuses them) and says so."""
    from saprot_scan.estimate import announce
    from saprot_scan.pipeline import scan_chain, scan_residues
    from saprot_scan.progressive import ScanPlan

    say = lambda text: note(args, f"chain {chain.chain_id}: {text}")  # noqa: E731
    total = len(chain if selected is None else selected)
    update, close = progress_bar(args, f"chain {chain.chain_id}", total)
    options = dict(method=args.method, plddt_mask=args.plddt_mask, plddt_threshold=args.plddt_threshold,
                   batch_size=args.batch_size, use_cache=not args.no_cache, backend=args.threedi)
    try:
        if selected is None:
            result = scan_chain(chain, model, progress=update, on_plan=lambda plan: update.start(
                announce(model, plan, say, batch_size=args.batch_size)), **options)
        else:
            update.start(announce(model, ScanPlan(len(chain), args.method, len(selected), 0, False), say,
                                  batch_size=args.batch_size))
            result = scan_residues(chain, selected, model, progress=update, **options)
            result.notes.append(f"{len(selected)} of {len(chain)} residues selected by --residues")
    except KeyboardInterrupt as err:
        partial = getattr(err, "partial", None)
        if partial is not None:
            kept = ("kept in the result cache: the same command resumes from them" if not args.no_cache
                    else "not kept (--no-cache)")
            say(f"interrupted after {partial.scanned_count} of {len(chain)} residues; {kept}")
        raise
    finally:
        close()
    return result


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.outputs import HEATMAP_SUFFIXES
    from saprot_scan.outputs.files import check_writable
    from saprot_scan.pipeline import check_method

    outputs = [p for p in (args.csv, args.summary_csv, args.json, args.heatmap) if p]
    for path in outputs:
        check_writable(path)
    if args.heatmap and Path(args.heatmap).suffix.lower() not in HEATMAP_SUFFIXES:
        raise InputError(f"--heatmap {args.heatmap}: use a .png, .svg or .pdf file name")
    check_report(args)
    fitted = fitted_for_scan(args)  # a bad --fitted file fails before any model work
    chains = read_chains(args, show_notes=False)  # they come with each chain's result line
    numberings, selections = _numberings(args, chains)
    known = known_variants.load(args)  # a bad file or accession fails before any model work too
    if args.csv_hgvs:
        from saprot_scan.outputs.hgvs import hgvs_paths

        for path in hgvs_paths(args.csv_hgvs, [c.chain_id for c in chains]):
            check_writable(path)
    if fitted is not None:
        only_chain(chains, "--fitted")
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    model.check()
    check_method(model, args.method)
    check_fitted_for_scan(args, fitted, chains, model)
    note(args, f"scoring with {model.describe()}")
    results = []
    for chain, selected in zip(chains, selections):
        results.append(apply_for_scan(args, fitted, _scan_one(args, model, chain, selected)))
        note(args, results[-1].describe() + "".join(f"; {n}" for n in results[-1].notes))
    for words in dict.fromkeys(r.meaning.describe() for r in results):
        note(args, words)
    results = known_variants.place(args, known, chains, results)
    alignments = [n.alignment for n in numberings] if args.reference else None
    written = write_scan_outputs(args, results, alignments)
    if args.csv_hgvs:
        _write_hgvs(args, results)
    for path in written:
        note(args, f"wrote {path}")
    return EXIT_OK
