"""The ``saprot-scan`` command line (contract in DESIGN.md).

Exit status: 0 success; 2 bad input or usage (one line on stderr); 1 anything else. Outputs are
checked for writability before any work and written all-or-nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from .errors import InputError, ScanCancelled

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(f"{self.prog}: {message} (see --help)")


def _add_structure_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("structure", help="PDB or mmCIF file, plain or gzipped")
    p.add_argument("--chain", action="append", default=None,
                   help="author chain id (repeatable; default: every protein chain, each on its own)")
    p.add_argument("--model-number", type=int, default=1, help="model of an NMR ensemble (default 1)")
    p.add_argument("--plddt-mask", choices=["auto", "on", "off"], default="auto",
                   help="hide 3Di letters of low-pLDDT residues (auto: predicted models only)")
    p.add_argument("--plddt-threshold", type=float, default=70.0)
    p.add_argument("--3di", dest="threedi", choices=["auto", "foldseek", "embedded"], default="auto",
                   help="3Di encoder: foldseek binary when on PATH (auto), or the embedded one")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="registry name, .onnx path, burial-blosum (structure scorer), or A+B for an ensemble "
                        "(default: see 'models list')")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--precision", choices=["auto", "fp32", "fp16", "int8"], default="auto",
                   help="auto: the checked int8 copy on CPU / fp16 copy on CUDA when one exists, else fp32")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes on stderr")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="saprot-scan", description="SaProt zero-shot scores for every substitution of a protein.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"saprot-scan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("tokens", help="3Di and SaProt's structure-aware sequence, as TSV")
    _add_structure_args(p)

    p = sub.add_parser("scan", help="score all 19 substitutions at every residue")
    _add_structure_args(p)
    _add_model_args(p)
    p.add_argument("--method", choices=["masked", "wt"], default="masked",
                   help="masked: SaProt's masked marginal (exact); wt: one pass, fast")
    p.add_argument("--csv", help="all substitutions (chain,position,residue,wt,mt,mutant,score)")
    p.add_argument("--summary-csv", help="per-residue mean, min and max over the 19 substitutions")
    p.add_argument("--json", help="scores and metadata as JSON")
    p.add_argument("--heatmap", help="heatmap image (.png, .svg or .pdf)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")

    p = sub.add_parser("score", help="score listed (multi-)mutants, one pass per variant")
    _add_structure_args(p)
    _add_model_args(p)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--mutations", help='variants separated by spaces or newlines, e.g. "A23G:L45P A30V"')
    group.add_argument("--mutations-file", help="one variant per line (a CSV with a 'mutant' column also works)")
    p.add_argument("--out", help="write 'mutant,score' CSV here instead of stdout")

    models = sub.add_parser("models", help="list, fetch, export and inspect models")
    msub = models.add_subparsers(dest="models_command", required=True, parser_class=_Parser)
    msub.add_parser("list", help="registry models, what is cached, and the default")
    f = msub.add_parser("fetch", help="download a pinned SaProt checkpoint, export it to ONNX, cache it")
    f.add_argument("name")
    f.add_argument("--fp16", action="store_true", help="also export an fp16 copy for GPUs")
    f.add_argument("--int8", action="store_true", help="also make a checked int8 copy for fast CPU scans")
    e = msub.add_parser("export", help="export a SaProt-format Hugging Face checkpoint to ONNX")
    e.add_argument("hf_dir")
    e.add_argument("--out", required=True)
    e.add_argument("--fp16", action="store_true")
    e.add_argument("--int8", action="store_true",
                   help="also write a checked int8 copy beside it (kept only if its scores rank-agree >= 0.99)")
    q = msub.add_parser("quantize", help="make the checked int8 copy of a cached model or an fp32 .onnx file")
    q.add_argument("model")
    i = msub.add_parser("info", help="check an .onnx file or registry name and describe it")
    i.add_argument("model")
    return parser


def _note(args, text: str) -> None:
    if not getattr(args, "quiet", False):
        print(text, file=sys.stderr)


def _read_chains(args):
    from .structure import read_structure

    return read_structure(args.structure, chains=args.chain, model=args.model_number)


def cmd_tokens(args) -> int:
    from .pipeline import chain_tokens

    rows = ["chain\taa\t3di\tcombined"]
    for chain in _read_chains(args):
        tokens = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
        if tokens.plddt_masked:
            _note(args, f"# chain {chain.chain_id}: pLDDT masking applied, {tokens.masked_count} of "
                        f"{len(chain)} residues below {args.plddt_threshold:g} set to #")
        rows.append(f"{chain.chain_id}\t{tokens.aa}\t{tokens.struct.upper()}\t{tokens.combined}")
    print("\n".join(rows))
    return EXIT_OK


def _progress_bar(args, label: str, total: int):
    """A tqdm bar on a terminal's stderr for scans long enough to wait for (logs stay clean)."""
    if args.quiet or total < 50 or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="res", file=sys.stderr, leave=False, mininterval=0.5)

    def update(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return update, bar.close


def cmd_scan(args) -> int:
    from .atomic import check_writable
    from .pipeline import scan_chain
    from .results import summary_csv_text, write_csv, write_json
    from .scorers import check_scorer_runs, load_scorer

    outputs = [p for p in (args.csv, args.summary_csv, args.json, args.heatmap) if p]
    for path in outputs:
        check_writable(path)
    if args.heatmap and Path(args.heatmap).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"--heatmap {args.heatmap}: use a .png, .svg or .pdf file name")
    chains = _read_chains(args)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    check_scorer_runs(model)
    _note(args, f"scoring with {model.describe()}")
    results = []
    for chain in chains:
        update, close = _progress_bar(args, f"chain {chain.chain_id}", len(chain))
        try:
            result = scan_chain(chain, model, method=args.method, plddt_mask=args.plddt_mask,
                                plddt_threshold=args.plddt_threshold, batch_size=args.batch_size,
                                progress=update, use_cache=not args.no_cache, backend=args.threedi)
        finally:
            close()
        _note(args, result.describe() + "".join(f"; {n}" for n in result.notes))
        results.append(result)
    if args.csv:
        write_csv(results, args.csv)
    if args.summary_csv:
        from .atomic import write_text_atomic

        write_text_atomic(args.summary_csv, summary_csv_text(results))
    if args.json:
        write_json(results, args.json)
    if args.heatmap:
        from .heatmap import save_heatmap

        save_heatmap(results, args.heatmap)
    if not args.csv and not args.json:
        from .results import csv_text

        sys.stdout.write(csv_text(results))
    for path in outputs:
        _note(args, f"wrote {path}")
    return EXIT_OK


def _read_variants(args) -> list[str]:
    if args.mutations is not None:
        return args.mutations.split()
    path = Path(args.mutations_file)
    if not path.is_file():
        raise InputError(f"{path}: no such mutations file")
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if lines and "mutant" in lines[0].split(","):
        column = lines[0].split(",").index("mutant")
        lines = [line.split(",")[column] for line in lines[1:]]
    return lines


def cmd_score(args) -> int:
    from .atomic import write_text_atomic
    from .pipeline import chain_tokens, score_mutations
    from .scan import MAX_RESIDUES, parse_variant
    from .scorers import check_scorer_runs, load_scorer

    if args.out:
        from .atomic import check_writable

        check_writable(args.out)
    variants = _read_variants(args)
    if not variants:
        raise InputError("no mutations given")
    chains = _read_chains(args)
    if len(chains) > 1:
        raise InputError(f"the structure has {len(chains)} protein chains; choose one with --chain")
    for variant in variants:  # every mutation is checked before any model work
        parse_variant(variant, chains[0].sequence)
    model = load_scorer(args.model, device=args.device, precision=args.precision)
    check_scorer_runs(model)
    _note(args, f"scoring with {model.describe()}")
    chain = chains[0]
    tokens = chain_tokens(chain, args.plddt_mask, args.plddt_threshold, args.threedi)
    notes = [f"chain {chain.chain_id}: {len(chain)} residues, "
             + ("masked marginal, all sites of a variant in one pass" if model.kind == "language-model"
                else "multi-mutants scored as the sum of their single substitutions"),
             f"pLDDT masking applied to {tokens.masked_count} residues" if tokens.plddt_masked
             else "no pLDDT masking"]
    if len(chain) > MAX_RESIDUES:
        notes.append(f"each variant scored in the {MAX_RESIDUES}-residue window centred nearest its sites")
    _note(args, "; ".join(notes))
    scores = score_mutations(chain, variants, model, batch_size=args.batch_size, tokens=tokens)
    text = "mutant,score\n" + "".join(f"{v},{s:.6f}\n" for v, s in zip(variants, scores))
    if args.out:
        write_text_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_models(args) -> int:
    from . import model_commands

    return model_commands.run(args)


COMMANDS = {"tokens": cmd_tokens, "scan": cmd_scan, "score": cmd_score, "models": cmd_models}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; turns every expected failure into one line on stderr."""
    debug = bool(os.environ.get("SAPROT_SCAN_DEBUG"))
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as err:
        print(f"saprot-scan: error: {err}", file=sys.stderr)
        return EXIT_INPUT
    except ScanCancelled:
        print("saprot-scan: cancelled", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("saprot-scan: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as err:  # a bug or an environment failure: still one line unless debugging
        if debug:
            raise
        print(f"saprot-scan: internal error: {type(err).__name__}: {err} "
              "(set SAPROT_SCAN_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
