"""``saprot-scan scan``: every substitution of every chain scored, written as CSV, JSON, heatmap."""
from __future__ import annotations

from pathlib import Path

from saprot_scan.cli.common import EXIT_OK, note, progress_bar, read_chains, write_scan_outputs
from saprot_scan.cli.fit import apply_for_scan, check_fitted_for_scan, fitted_for_scan
from saprot_scan.errors import InputError


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.outputs import HEATMAP_SUFFIXES
    from saprot_scan.outputs.files import check_writable
    from saprot_scan.pipeline import scan_chain

    outputs = [p for p in (args.csv, args.summary_csv, args.json, args.heatmap) if p]
    for path in outputs:
        check_writable(path)
    if args.heatmap and Path(args.heatmap).suffix.lower() not in HEATMAP_SUFFIXES:
        raise InputError(f"--heatmap {args.heatmap}: use a .png, .svg or .pdf file name")
    fitted = fitted_for_scan(args)  # a bad --fitted file fails before any model work
    chains = read_chains(args)
    if fitted is not None and len(chains) > 1:
        raise InputError(f"--fitted applies to one chain; the structure has {len(chains)}: choose one with --chain")
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    model.check()
    check_fitted_for_scan(args, fitted, chains, model)
    note(args, f"scoring with {model.describe()}")
    results = []
    for chain in chains:
        update, close = progress_bar(args, f"chain {chain.chain_id}", len(chain))
        try:
            result = scan_chain(chain, model, method=args.method, plddt_mask=args.plddt_mask,
                                plddt_threshold=args.plddt_threshold, batch_size=args.batch_size,
                                progress=update, use_cache=not args.no_cache, backend=args.threedi)
        finally:
            close()
        result = apply_for_scan(args, fitted, result)
        note(args, result.describe() + "".join(f"; {n}" for n in result.notes))
        results.append(result)
    for path in write_scan_outputs(args, results):
        note(args, f"wrote {path}")
    return EXIT_OK
