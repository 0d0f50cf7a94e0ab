"""``saprot-scan batch``: score many structures into a Parquet folder, locally or on a Ray cluster; resumable."""
from __future__ import annotations

import argparse

from saprot_scan.cli.common import EXIT_OK, check_report, note

HELP = "score many structures (files, folders, globs, list files, tar archives) into a Parquet folder"
#: Exit status after Ctrl-C / SIGTERM (what finished is saved; the same command resumes).
EXIT_INTERRUPTED = 130


def add_arguments(p: argparse.ArgumentParser, model_args) -> None:
    """The batch options; ``model_args`` adds the shared --model/--device/--batch-size/--precision/--quiet."""
    from saprot_scan.encoding.plddt import DEFAULT_PLDDT_THRESHOLD, PLDDT_MODES
    from saprot_scan.encoding.threedi import BACKENDS as THREEDI_BACKENDS
    from saprot_scan.scoring.marginals import METHODS

    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="structure files, folders (recursive), glob patterns, list files (.txt/.list), "
                        "tar archives of *.pdb.gz/*.cif.gz")
    p.add_argument("--out", required=True, help="output folder (scores/, residues/, manifest.parquet)")
    p.add_argument("--chain", action="append", default=None,
                   help="score only these author chain ids (repeatable); structures without them are skipped")
    p.add_argument("--model-number", type=int, default=1, help="model of NMR ensembles (default 1)")
    p.add_argument("--plddt-mask", choices=PLDDT_MODES, default="auto")
    p.add_argument("--plddt-threshold", type=float, default=DEFAULT_PLDDT_THRESHOLD)
    p.add_argument("--3di", dest="threedi", choices=THREEDI_BACKENDS, default="auto")
    p.add_argument("--partner-context", choices=("on", "off"), default="on",
                   help="structure scorers count each file's other chains in burial (default on)")
    model_args(p)
    p.add_argument("--method", choices=METHODS, default="masked")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local worker processes (default) or a Ray cluster (pip install 'saprot-scan[ray]')")
    p.add_argument("--workers", type=int, default=None,
                   help="workers, each holding one loaded model (local default 1; ray default: one per "
                        "--cpus-per-worker CPUs, or per --gpus-per-worker GPUs, of the cluster)")
    p.add_argument("--ray-address", default=None,
                   help="auto or HOST:PORT of a running Ray cluster (default: $RAY_ADDRESS, else a new local Ray)")
    p.add_argument("--gpus-per-worker", type=float, default=0.0, help="GPUs each Ray worker asks for")
    p.add_argument("--cpus-per-worker", type=float, default=1.0, help="CPUs each Ray worker asks for")
    p.add_argument("--retry-failed", action="store_true", help="score structures that failed before again")
    p.add_argument("--report", metavar="F.html",
                   help="an index page of the folder's structures, linking one self-contained page per structure "
                        "(written beside it, in F_pages/)")
    p.add_argument("--log-every", type=int, default=100,
                   help="without a terminal: one progress line every N structures (default 100)")
    p.add_argument("--uniprot", action="store_true",
                   help="known variants per structure: fetch the UniProt variation JSON and AlphaMissense CSV of "
                        "each structure's accession (from --accessions, else the file's DBREF/_struct_ref/AlphaFold "
                        "name); cached")
    p.add_argument("--accessions", metavar="CSV", help="structure_id,accession rows: each structure's UniProt accession")
    p.add_argument("--known-dir", metavar="DIR",
                   help="known-variant files named by accession (P00698.json, AF-P00698-F1-aa-substitutions.csv); "
                        "read instead of fetching")


def _known_options(args):
    """The per-structure known-variant options (None when none was asked for); bad ones fail here, at once."""
    from pathlib import Path

    from saprot_scan.errors import InputError
    from saprot_scan.known.batch import KnownOptions, read_accessions

    if not (args.uniprot or args.accessions or args.known_dir):
        return None
    if args.known_dir and not Path(args.known_dir).is_dir():
        raise InputError(f"--known-dir {args.known_dir}: no such folder")
    if not (args.uniprot or args.known_dir):
        raise InputError("--accessions needs --uniprot (fetch) or --known-dir (files)")
    return KnownOptions(fetch=args.uniprot, folder=str(Path(args.known_dir).resolve()) if args.known_dir else None,
                        accessions=read_accessions(args.accessions))


def run(args) -> int:
    from saprot_scan.batch import ScoreOptions, run_batch

    check_report(args)
    options = ScoreOptions(known=_known_options(args), model=args.model, device=args.device, precision=args.precision,
                           method=args.method,
                           chains=tuple(args.chain) if args.chain else None, model_number=args.model_number,
                           plddt_mask=args.plddt_mask, plddt_threshold=args.plddt_threshold,
                           threedi=args.threedi, batch_size=args.batch_size,
                           partner_context=args.partner_context)
    report = run_batch(args.inputs, args.out, options, engine=args.engine, workers=args.workers,
                       ray_address=args.ray_address, gpus_per_worker=args.gpus_per_worker,
                       cpus_per_worker=args.cpus_per_worker, retry_failed=args.retry_failed, quiet=args.quiet,
                       log_every=args.log_every)
    if args.report and not report.interrupted:
        from saprot_scan.report.index import pages_dir, write_batch_report

        path, pages = write_batch_report(args.report, args.out, getattr(args, "argv", None), args.model_number)
        note(args, f"wrote {path} (and {pages} structure page{'s' if pages != 1 else ''} in "
                   f"{pages_dir(path)})")
    return EXIT_INTERRUPTED if report.interrupted else EXIT_OK
