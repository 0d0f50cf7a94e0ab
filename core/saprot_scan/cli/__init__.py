"""The ``saprot-scan`` command line (contract in DESIGN.md).

Exit status: 0 success; 2 bad input or usage (one line on stderr); 1 anything else. Outputs are
checked for writability before any work and written all-or-nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Sequence

from saprot_scan.errors import HubUnreachable, InputError, ScanCancelled, SettingsWarning
from saprot_scan.settings import ENV_DEBUG

from saprot_scan.backends.base import DEVICES, PRECISIONS
from saprot_scan.cli.common import EXIT_FAILURE, EXIT_INPUT, EXIT_OK
from saprot_scan.cli.known import add_arguments as known_args
from saprot_scan.conventions.numbering import NUMBERINGS
from saprot_scan.design.labels import NUMBERINGS as LABEL_NUMBERINGS
from saprot_scan.encoding.plddt import DEFAULT_PLDDT_THRESHOLD, PLDDT_MODES
from saprot_scan.encoding.threedi import BACKENDS as THREEDI_BACKENDS
from saprot_scan.scoring.marginals import METHODS


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in one line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # main() prefixes "saprot-scan: error: " once; name only the subcommand here ("score: ...").
        where = self.prog.removeprefix("saprot-scan").strip()
        raise InputError(f"{where + ': ' if where else ''}{message} (see --help)")


def _add_structure_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("structure", help="PDB or mmCIF file, plain or gzipped")
    p.add_argument("--chain", action="append", default=None,
                   help="author chain id (repeatable; default: every protein chain, each on its own)")
    p.add_argument("--model-number", type=int, default=1, help="model of an NMR ensemble (default 1)")
    p.add_argument("--plddt-mask", choices=PLDDT_MODES, default="auto",
                   help="hide 3Di letters of low-pLDDT residues (auto: predicted models only)")
    p.add_argument("--plddt-threshold", type=float, default=DEFAULT_PLDDT_THRESHOLD)
    p.add_argument("--3di", dest="threedi", choices=THREEDI_BACKENDS, default="auto",
                   help="3Di encoder: foldseek binary when on PATH (auto), or the embedded one")
    p.add_argument("--partner-context", choices=("on", "off"), default="on",
                   help="structure scorers count the file's other chains in burial (default on; SaProt reads "
                        "one chain either way); residues touching another chain are marked 'interface'")


def _add_int8_choice(parser) -> None:
    """fetch/import: the checked int8 copy is made by default on a machine without a CUDA GPU (issue 25)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--int8", action="store_true", help="make the checked int8 copy for fast CPU scans even where "
                                                           "a CUDA GPU answers (default: made when none does)")
    group.add_argument("--no-int8", action="store_true", help="do not make the int8 copy (CPU scans then run fp32)")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None,
                   help="registry name, .onnx path, structure-blend, burial-blosum or learned-structure (structure "
                        "scorers), or A+B for an ensemble (default: see 'models list'; without SaProt cached, "
                        "structure-blend)")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="auto: the checked int8 copy on CPU / fp16 copy on CUDA when one exists, else fp32")
    p.add_argument("--quiet", action="store_true", help="no progress bar or notes on stderr")


def _add_numbering_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--numbering", choices=NUMBERINGS, default=None,
                   help="how residue numbers you type are read: author numbers as viewers show them (default), "
                        "1-based index in the chain, or positions in --reference (default when it is given)")
    p.add_argument("--reference", metavar="SEQ.fasta",
                   help="reference sequence (e.g. UniProt): the chain is aligned to it; needs >= 50%% identity")


def _add_report_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", metavar="F.html",
                   help="one self-contained page to share (opens offline): heatmap, 3D structure, sortable table, "
                        "what the scores mean, and the command, versions and model hash that made them")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="saprot-scan", description="SaProt zero-shot scores for every substitution of a protein.")
    from saprot_scan import __version__

    parser.add_argument("--version", action="version", version=f"saprot-scan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("tokens", help="3Di and SaProt's structure-aware sequence, as TSV")
    _add_structure_args(p)

    p = sub.add_parser("scan", help="score all 19 substitutions at every residue")
    _add_structure_args(p)
    _add_model_args(p)
    p.add_argument("--method", choices=METHODS, default="masked",
                   help="masked: SaProt's masked marginal (exact); wt: one pass, fast")
    p.add_argument("--csv", help="all substitutions (chain,position,residue,wt,mt,mutant,score)")
    p.add_argument("--summary-csv", help="per-residue mean, min and max over the 19 substitutions")
    p.add_argument("--json", help="scores and metadata as JSON")
    p.add_argument("--heatmap", help="heatmap image (.png, .svg or .pdf)")
    p.add_argument("--csv-hgvs", metavar="F",
                   help="mutation-scores CSV for ChimeraX's mutationscores (hgvs column p.(Y392A), author numbers; "
                        "one file per chain: F_A.csv, F_B.csv... when several)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    p.add_argument("--residues", metavar="SEL",
                   help="scan only these residues, e.g. 40-120,150 or 52A (numbers read as --numbering says)")
    _add_numbering_args(p)
    p.add_argument("--fitted", help="a model saved by 'saprot-scan fit --save': output its fitted scores")
    known_args(p)
    _add_report_arg(p)

    p = sub.add_parser("score", help="score listed (multi-)mutants, one pass per variant")
    _add_structure_args(p)
    _add_model_args(p)
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--mutations", help='variants separated by spaces, commas or newlines; the sites of one multi-mutant '
                                            'joined by ":", e.g. "A23G:L45P A30V" (K48R,K63R is two singles)')
    group.add_argument("--mutations-file", help="one variant per line (a CSV with a 'mutant' column also works)")
    p.add_argument("--out", help="write 'mutant,score' CSV here instead of stdout")
    _add_numbering_args(p)
    known_args(p)

    p = sub.add_parser("fit", help="fit zero-shot scores to your own assay data (augmented ridge)")
    _add_structure_args(p)
    _add_model_args(p)
    p.add_argument("--labels", required=True,
                   help="CSV with columns mutant,score (singles and multi-mutants, e.g. A23G or A23G:L45P)")
    p.add_argument("--numbering", choices=LABEL_NUMBERINGS, default="index",
                   help="positions in --labels/--predict: index = 1-based in the chain (ProteinGym's, default; "
                        "unlike score and scan, whose default is author); author = the file's residue numbers "
                        "with insertion codes. A label that only reads in the other numbering says so")
    p.add_argument("--method", choices=METHODS, default="masked",
                   help="zero-shot scores the model is fitted on (masked: SaProt's masked marginal)")
    p.add_argument("--wild-type-score", type=float, metavar="X",
                   help="the wild type's measured value: scores become relative to it (default: the labels' WT, "
                        "_wt or synonymous rows; with none, scores are relative to the average measured variant "
                        "and claim nothing about the wild type)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds for the reported Spearman")
    p.add_argument("--seed", type=int, default=0, help="seed of the cross-validation split")
    p.add_argument("--save", help="save the fitted model as JSON (for 'scan --fitted' and the viewers)")
    p.add_argument("--csv", help="fitted scores of all single substitutions (the columns of 'scan --csv')")
    p.add_argument("--summary-csv", help="per-residue mean, min and max of the fitted scores")
    p.add_argument("--json", help="fitted scores and metadata as JSON (as 'scan --json')")
    p.add_argument("--heatmap", help="heatmap of the fitted scores (.png, .svg or .pdf)")
    p.add_argument("--predict", help='variants to predict, e.g. "A23G:L45P A30V" (needs --predictions)')
    p.add_argument("--predict-file", help="variants to predict, one per line or a CSV with a 'mutant' column")
    p.add_argument("--predictions", help="write mutant,zero_shot,fitted for the --predict variants here")
    _add_report_arg(p)
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    known_args(p)

    p = sub.add_parser("suggest", help="the best single substitutions under filters, and separated combinations")
    _add_structure_args(p)
    _add_model_args(p)
    p.add_argument("--method", choices=METHODS, default="masked")
    p.add_argument("--fitted", help="rank by a model saved by 'saprot-scan fit --save' instead of zero-shot scores")
    p.add_argument("--top", type=int, default=20, help="how many single substitutions (default 20)")
    p.add_argument("--per-position", type=int, default=1, help="at most this many per residue (default 1)")
    p.add_argument("--min-score", type=float, default=0.0,
                   help="keep scores above this (default 0: the scorer's own 0, the wild type for SaProt and fitted "
                        "models, the chain's typical substitution for the structure scorers and ensembles)")
    p.add_argument("--allow", default="", help="also suggest these of P, G, C (left out by default), e.g. --allow PG")
    p.add_argument("--avoid", help='residues to keep away from, author numbering, e.g. "A:45-50,B:12"')
    p.add_argument("--avoid-radius", type=float, default=5.0,
                   help="also avoid residues with an atom (N, CA, C, CB) within this many Å of --avoid (default 5)")
    p.add_argument("--combinations", type=int, default=5, help="how many combinations to propose (0: none)")
    p.add_argument("--combination-size", type=int, default=3, help="at most this many sites per combination")
    p.add_argument("--min-separation", type=float, default=8.0,
                   help="CA-CA distance (Å) every two sites of a combination must exceed (default 8)")
    p.add_argument("--csv", help="write the suggestions as CSV (kind,rank,chain,mutant,residues,score,sum_of_singles)")
    _add_report_arg(p)
    p.add_argument("--no-cache", action="store_true", help="do not read or write the result cache")
    known_args(p)

    p = sub.add_parser("design", help="inverse folding: P(amino acid | structure) with every amino acid hidden")
    _add_structure_args(p)
    _add_model_args(p)
    p.add_argument("--csv", help="per residue: chain,position,residue,wt,p_native,designed,p_designed")
    p.add_argument("--fasta", help="the most likely sequence of every chain")
    p.add_argument("--heatmap", help="heatmap of log P(aa) - log P(native) (.png, .svg or .pdf)")

    models = sub.add_parser("models", help="list, fetch, export and inspect models")
    msub = models.add_subparsers(dest="models_command", required=True, parser_class=_Parser)
    msub.add_parser("list", help="registry models, what is cached, and the default")
    f = msub.add_parser("fetch", help="download a pinned SaProt checkpoint, export it to ONNX, cache it")
    f.add_argument("name")
    f.add_argument("--fp16", action="store_true", help="also export an fp16 copy for GPUs (made anyway where a "
                                                         "CUDA GPU answers)")
    _add_int8_choice(f)
    e = msub.add_parser("export", help="export a SaProt-format Hugging Face checkpoint to ONNX")
    e.add_argument("hf_dir")
    e.add_argument("--out", required=True)
    e.add_argument("--fp16", action="store_true")
    e.add_argument("--int8", action="store_true",
                   help="also write a checked int8 copy beside it (kept only if its scores rank-agree >= 0.99)")
    m = msub.add_parser("import", help="check, export and cache a Hugging Face checkpoint downloaded elsewhere "
                                       "(a folder or a zip of one), as fetch does")
    m.add_argument("path")
    m.add_argument("--name", default=None, help="registry name (default: recognised from the checkpoint's config); "
                                                "the checkpoint must have that model's shape")
    m.add_argument("--any-shape", action="store_true",
                   help="with --name: take a checkpoint whose layers or width differ from the named model's "
                        "(your own experiments; the cache then holds a model of another size under that name)")
    m.add_argument("--fp16", action="store_true", help="also export an fp16 copy for GPUs (made anyway where a "
                                                         "CUDA GPU answers)")
    _add_int8_choice(m)
    q = msub.add_parser("quantize", help="make the checked int8 copy of a cached model or an fp32 .onnx file")
    q.add_argument("model")
    i = msub.add_parser("info", help="check an .onnx file or registry name and describe it")
    i.add_argument("model")
    i.add_argument("--precision", choices=("fp32", "fp16", "int8"),
                   help="describe this precision's file (the int8 or fp16 copy) without running it")
    u = msub.add_parser("use", help="save the model used when none is named (CLI, PyMOL and ChimeraX); 'auto' forgets it")
    u.add_argument("model")
    from saprot_scan.cli import batch

    batch.add_arguments(sub.add_parser("batch", help=batch.HELP), model_args=_add_model_args)
    return parser


#: command -> module under saprot_scan.cli with a ``run(args) -> int`` (one module per command).
COMMANDS = ("tokens", "scan", "score", "fit", "suggest", "design", "models", "batch")


def _run(args) -> int:
    import importlib

    return importlib.import_module(f"saprot_scan.cli.{args.command}").run(args)


_PYTHON_FORMAT = warnings.formatwarning


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """saprot-scan's own warnings as one line, like its errors; other warnings as Python prints them."""
    if issubclass(category, SettingsWarning):
        return f"saprot-scan: warning: {message}\n"
    return _PYTHON_FORMAT(message, category, filename, lineno, line)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; turns every expected failure into one line on stderr."""
    debug = bool(os.environ.get(ENV_DEBUG))
    warnings.formatwarning = _one_line_warning
    try:
        args = build_parser().parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)  # the command a --report names
        return _run(args)
    except HubUnreachable as err:  # the input was fine; the network was not (DESIGN.md: 1, anything else)
        print(f"saprot-scan: error: {err}", file=sys.stderr)
        return EXIT_FAILURE
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
