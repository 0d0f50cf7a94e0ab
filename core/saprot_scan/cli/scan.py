"""``saprot-scan scan``: every substitution of every chain scored, written as CSV, JSON, heatmap."""
from __future__ import annotations

import sys
from pathlib import Path

from saprot_scan.cli.common import EXIT_OK, note, progress_bar, read_chains
from saprot_scan.errors import InputError


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.outputs import HEATMAP_SUFFIXES
    from saprot_scan.outputs.files import check_writable, write_text_atomic
    from saprot_scan.outputs.tables import csv_text, summary_csv_text, write_csv, write_json
    from saprot_scan.pipeline import scan_chain

    outputs = [p for p in (args.csv, args.summary_csv, args.json, args.heatmap) if p]
    for path in outputs:
        check_writable(path)
    if args.heatmap and Path(args.heatmap).suffix.lower() not in HEATMAP_SUFFIXES:
        raise InputError(f"--heatmap {args.heatmap}: use a .png, .svg or .pdf file name")
    chains = read_chains(args)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    model.check()
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
        note(args, result.describe() + "".join(f"; {n}" for n in result.notes))
        results.append(result)
    if args.csv:
        write_csv(results, args.csv)
    if args.summary_csv:
        write_text_atomic(args.summary_csv, summary_csv_text(results))
    if args.json:
        write_json(results, args.json)
    if args.heatmap:
        from saprot_scan.outputs.heatmap import save_heatmap

        save_heatmap(results, args.heatmap)
    if not args.csv and not args.json:
        sys.stdout.write(csv_text(results))
    for path in outputs:
        note(args, f"wrote {path}")
    return EXIT_OK
