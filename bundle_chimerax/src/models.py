"""``saprot models``, ``saprot models fetch``, ``saprot models export``: the model list, fetch, export."""
from __future__ import annotations

from pathlib import Path

from chimerax.core.commands import BoolArg, CmdDesc, OpenFolderNameArg, SaveFileNameArg, StringArg
from chimerax.core.errors import UserError

from . import args


def saprot_models(session):
    """List known, cached and embedded models and which one scores by default."""
    from html import escape
    from saprot_scan import models_dir
    from saprot_scan import default_model_line, model_list
    rows = [(row.name, row.status if row.available or row.kind != "registry"
             else f"{row.status} (saprot models fetch {row.name})" if row.fetchable
             else f"{row.status} (download it, then: saprot-scan models import FOLDER --name {row.name})", row.source)
            for row in model_list()]
    default = default_model_line()
    table = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{escape(c)}</td></tr>" for a, b, c in rows)
    session.logger.info(
        "<p><b>SaProt models</b></p><table border=1 cellpadding=2 style='border-collapse:collapse'>"
        f"<tr><th>name</th><th>status</th><th>source</th></tr>{table}</table>"
        f"<p>default: {escape(default)}<br>cache: {escape(str(models_dir()))}</p>", is_html=True)
    return rows


models_desc = CmdDesc(synopsis="list SaProt models and which one scores by default", url=args.HELP + "#models")


def saprot_models_fetch(session, name: str):
    """Download a registry model from the Hugging Face hub, export it to ONNX and cache it."""
    def work(report, cancel):
        from saprot_scan import fetch_model, need_fetch_extra, registry_entry
        registry_entry(name)  # an unknown name fails here, before anything is downloaded
        need_fetch_extra("saprot models fetch")  # the CLI's words: which extra to install in ChimeraX's Python
        report(f"fetching {name} ...")
        return fetch_model(name, progress=False, report=report)

    def done(path) -> None:
        session.logger.info(f"SaProt model {name} cached at {path}")

    from .jobs import run_job
    run_job(session, "saprot models fetch", work, done)


fetch_desc = CmdDesc(required=[("name", StringArg)], synopsis="download and cache a SaProt model",
                     url=args.HELP + "#models")


def saprot_models_export(session, hf_dir: str, out: str, int8: bool | None = None):
    """Export a Hugging Face SaProt checkpoint folder to an ONNX file the scan can use, with the checked int8
    copy beside it (which CPU scans of the file use) on a machine without a CUDA GPU, or as ``int8`` says."""
    out = args.check_output(out, (".onnx",), "the model")
    if not Path(hf_dir).expanduser().is_dir():
        raise UserError(f"saprot models export: {hf_dir} is not a folder")

    def work(report, cancel):
        from saprot_scan import InputError
        report(f"exporting {hf_dir} ...")
        try:
            from saprot_scan import export_for_scans
            return export_for_scans(hf_dir, out, report, int8=int8)
        except ImportError as err:
            raise InputError(f"export needs the core's fetch extra (onnx) in ChimeraX's Python; missing {err.name}") from None

    def done(report_dict) -> None:
        copy = (report_dict or {}).get("int8_path")
        session.logger.info(f"SaProt model exported to {out}" + (f"; int8 copy for CPU scans: {copy}" if copy else ""))

    from .jobs import run_job
    run_job(session, "saprot models export", work, done)


export_desc = CmdDesc(required=[("hf_dir", OpenFolderNameArg)], keyword=[("out", SaveFileNameArg), ("int8", BoolArg)],
                      required_arguments=["out"], synopsis="export a SaProt checkpoint to ONNX",
                      url=args.HELP + "#models")


def saprot_models_use(session, model: str):
    """Save ``model`` as the default for ChimeraX, PyMOL and the command line ("auto" forgets the choice)."""
    from saprot_scan import InputError
    from saprot_scan.viewers import save_model_choice
    spec = model.strip()
    if spec.lower() in ("auto", "none", ""):
        save_model_choice(None)
        session.logger.info("saprot models use: forgot the saved model; the default order applies")
        return None
    try:
        spec = save_model_choice(spec)  # an unknown name, an uncached model or a missing file fails here
    except InputError as err:
        raise UserError(f"saprot models use: {err}") from None
    session.logger.info(f"saprot models use: {spec} now scores by default (ChimeraX, PyMOL, saprot-scan)")
    return spec


use_desc = CmdDesc(required=[("model", StringArg)],
                   synopsis="save the model used when none is named (shared with PyMOL and the command line)",
                   url=args.HELP + "#models")
