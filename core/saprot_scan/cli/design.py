"""``saprot-scan design``: SaProt's inverse-folding reading (P(native), designed sequence, recovery) as files."""
from __future__ import annotations

import sys
from pathlib import Path

from saprot_scan.cli.common import EXIT_OK, note, read_chains
from saprot_scan.errors import InputError


def run(args) -> int:
    from saprot_scan.backends.base import load_scorer
    from saprot_scan.design.inverse_folding import (DEFAULT_MODEL_NOTE, check_designs, design_chain, design_csv,
                                                    design_fasta)
    from saprot_scan.encoding.plddt import chain_tokens
    from saprot_scan.models.registry import embedded_model
    from saprot_scan.outputs import HEATMAP_SUFFIXES
    from saprot_scan.outputs.files import check_writable, write_text_atomic

    outputs = [p for p in (args.csv, args.fasta, args.heatmap) if p]
    for path in outputs:
        check_writable(path)
    if args.heatmap and Path(args.heatmap).suffix.lower() not in HEATMAP_SUFFIXES:
        raise InputError(f"--heatmap {args.heatmap}: use a .png, .svg or .pdf file name")
    chains = read_chains(args)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    check_designs(model)
    model.check()
    note(args, f"scoring with {model.describe()}")
    results = []
    for chain in chains:
        tokens = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
        result = design_chain(chain, model, tokens)
        print(result.describe() + (f"; pLDDT masking applied to {tokens.masked_count} residues"
                                   if tokens.plddt_masked else ""), file=sys.stderr)
        results.append(result)
    default = embedded_model()
    if default is not None and model.sha256 == default.sha256:
        print(f"note: {DEFAULT_MODEL_NOTE}", file=sys.stderr)
    if args.csv:
        write_text_atomic(args.csv, design_csv(results))
    if args.fasta:
        write_text_atomic(args.fasta, design_fasta(results, Path(args.structure).name))
    if args.heatmap:
        from saprot_scan.outputs.heatmap import save_heatmap

        save_heatmap([r.as_scan_result() for r in results], args.heatmap)
    if not args.csv:
        sys.stdout.write(design_csv(results))
    for path in outputs:
        note(args, f"wrote {path}")
    return EXIT_OK
