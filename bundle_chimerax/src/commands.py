"""The ``saprot`` commands: argument checking, then the core, then colours, attribute and log.

Everything the user could get wrong (spec, model, summary, output paths) is checked before
anything in the session changes; a problem is one ``UserError`` line.
"""
from __future__ import annotations

from pathlib import Path

from chimerax.core.commands import (BoolArg, CmdDesc, ColormapArg, EnumOf, OpenFolderNameArg, SaveFileNameArg,
                                    StringArg)
from chimerax.core.errors import UserError

HELP = "help:user/commands/saprot.html"
from saprot_scan.viewers import DEVICES, HEATMAP_SUFFIXES as _HEATMAP_FORMATS, MODEL_POOL

HEATMAP_SUFFIXES = tuple(_HEATMAP_FORMATS)


def _residues_arg():
    from chimerax.atomic import ResiduesArg
    return ResiduesArg


def _check_summary(summary: str) -> str:
    from saprot_scan import InputError
    from saprot_scan import check_summary
    try:
        return check_summary(summary)
    except InputError as err:
        raise UserError(f"saprot: {err}") from None


def _check_output(path: str | None, suffixes: tuple[str, ...] | None = None, what: str = "the file") -> str | None:
    """Fail before any work if ``path`` has the wrong suffix or cannot be written."""
    if path is None:
        return None
    from saprot_scan import check_writable
    from saprot_scan import InputError
    expanded = Path(path).expanduser()
    if suffixes and expanded.suffix.lower() not in suffixes:
        raise UserError(f"saprot: {path}: {what} must end in {', '.join(suffixes)}")
    try:
        check_writable(expanded)
    except InputError as err:
        raise UserError(f"saprot: {err}") from None
    return str(expanded)


def _resolve_model(model: str | None):
    """Which model file would score (fast: no hashing, no ONNX session); a clear error if none."""
    from saprot_scan import InputError
    from saprot_scan import resolve_model
    try:
        return resolve_model(model)
    except InputError as err:
        raise UserError(f"saprot: {err}") from None


def _core_chains(targets) -> list:
    from saprot_scan import InputError
    from .targets import core_chain
    chains = []
    for target in targets:
        try:
            chains.append(core_chain(target))
        except InputError as err:
            raise UserError(f"saprot: {target.label}: {err}") from None
    return chains


# ---------------------------------------------------------------- saprot scan
def saprot_scan(session, residues, model: str | None = None, method: str = "masked", summary: str = "mean",
                palette=None, key: bool = True, heatmap: str | None = None, csv: str | None = None,
                device: str = "auto"):
    """Score every substitution of each protein chain in ``residues`` and colour them."""
    from .targets import chain_targets
    kind = _check_summary(summary)
    heatmap = _check_output(heatmap, HEATMAP_SUFFIXES, "the heatmap")
    csv = _check_output(csv)
    targets = chain_targets(residues)
    chains = _core_chains(targets)
    ref = _resolve_model(model)
    structures = {t.structure for t in targets}
    labels = [t.label for t in targets]  # read here: ChimeraX objects are not touched off the UI thread
    names = ", ".join(labels)
    if len(structures) > 1:
        session.logger.info(f"SaProt scan: {len(structures)} structures, scoring each chain separately "
                            f"with model {ref.name}: {names}")
    else:
        session.logger.info(f"SaProt scan of {names} with model {ref.name}")

    def work(report, cancel):
        # Loading (hash check, ONNX session) and scoring both run here, off the UI thread with a GUI.
        from saprot_scan import scan_chain
        report(f"SaProt scan: loading model {ref.name}")
        loaded = MODEL_POOL.get(model, device)  # loaded once per session, as in PyMOL
        results = []
        for number, (label, chain) in enumerate(zip(labels, chains), start=1):
            progress = _throttled(report, f"SaProt scan {label} ({number}/{len(chains)})")
            results.append(scan_chain(chain, model=loaded, method=method, device=device,
                                      progress=progress, cancel=cancel))
        _write_outputs(results, csv, heatmap)
        return loaded.describe(), results

    def apply(outcome) -> None:
        model_line, results = outcome
        _apply_scan(session, targets, results, model_line, kind, palette, key, heatmap, csv)

    from .jobs import run_job
    run_job(session, "saprot scan", work, apply)


def _throttled(report, label: str, steps: int = 50):
    """A progress callback that reports at most ``steps`` times per chain (and always at the end),
    so a long chain does not flood the UI thread with status updates."""
    last = [-1]

    def progress(done: int, total: int) -> None:
        step = max(1, total // steps)
        if done >= total or last[0] < 0 or done - last[0] >= step:
            last[0] = done
            report(f"{label}: {done}/{total} positions")
    return progress


def _write_outputs(results, csv: str | None, heatmap: str | None) -> None:
    if csv:
        from saprot_scan import write_csv
        write_csv(results, csv)
    if heatmap:
        from saprot_scan import save_heatmap
        save_heatmap(results, heatmap)


def _apply_scan(session, targets, results, model_line: str, kind: str, palette, key: bool,
                heatmap: str | None, csv: str | None) -> None:
    from .store import StoredScan, remember
    live = [(t, r) for t, r in zip(targets, results) if not t.structure.deleted]
    if len(live) < len(targets):
        session.logger.warning("saprot scan: some structures were closed during the scan; their scores were dropped")
    scans = [StoredScan(t, r, model_line) for t, r in live]
    for scan in scans:
        remember(session, scan)
    if scans:
        _color_and_log(session, scans, kind, palette, key, heatmap, csv, register_sets=True)


def _color_and_log(session, scans, kind: str, palette, key: bool, heatmap: str | None, csv: str | None,
                   register_sets: bool, color_residues: dict | None = None) -> None:
    import numpy as np
    from . import coloring, mutation_scores_bridge, report
    values = np.concatenate([coloring.summary_values(s, kind) for s in scans])
    colormap = coloring.centred_colormap(palette, values)
    counts = [coloring.apply_scan(session, s, kind, colormap,
                                  None if color_residues is None else color_residues.get(id(s)))
              for s in scans]
    if key:
        coloring.show_key(session, colormap)
    limit = coloring.symmetric_limit(values)
    session.logger.info(report.scan_summary_html(scans, kind, counts, heatmap, csv, limit), is_html=True)
    if register_sets:
        if mutation_scores_bridge.mutation_scores_available():
            names = mutation_scores_bridge.register(session, scans)
            session.logger.info(f"Registered mutation score sets {', '.join(names)} (score name "
                                f"'{mutation_scores_bridge.SCORE_NAME}') for the mutationscores commands")
        else:
            session.logger.info("This ChimeraX has no mutation_scores bundle (added in 1.9); "
                                "use saprot heatmap and saprot mutations instead of mutationscores")


scan_desc = CmdDesc(
    required=[("residues", _residues_arg())],
    keyword=[("model", StringArg), ("method", EnumOf(("masked", "wt"))), ("summary", StringArg),
             ("palette", ColormapArg), ("key", BoolArg), ("heatmap", SaveFileNameArg),
             ("csv", SaveFileNameArg), ("device", EnumOf(DEVICES))],
    synopsis="score every substitution with SaProt and colour residues by predicted tolerance",
    url=HELP + "#scan")


# ---------------------------------------------------------------- saprot color
def saprot_color(session, residues=None, summary: str = "mean", palette=None, key: bool = True):
    """Recolour from stored scans without rescoring, optionally with another summary or palette."""
    from .store import stored_scans
    kind = _check_summary(summary)
    scans = stored_scans(session)
    if not scans:
        raise UserError("saprot color: nothing has been scanned in this session; run saprot scan first")
    color_residues = None
    if residues is not None:
        if len(residues) == 0:
            raise UserError("saprot color: the spec matches no residues")
        from chimerax.atomic import Residue
        chosen, color_residues = [], {}
        for scan in scans:
            mask = [r.structure is scan.target.structure and r.chain_id == scan.target.chain_id
                    and r.polymer_type == Residue.PT_AMINO for r in residues]
            inside = residues.filter(mask)
            if len(inside):
                chosen.append(scan)
                color_residues[id(scan)] = inside
        if not chosen:
            raise UserError("saprot color: no scanned chain has residues in the spec; run saprot scan on them first")
        scans = chosen
    _color_and_log(session, scans, kind, palette, key, None, None, register_sets=False,
                   color_residues=color_residues)


color_desc = CmdDesc(
    optional=[("residues", _residues_arg())],
    keyword=[("summary", StringArg), ("palette", ColormapArg), ("key", BoolArg)],
    synopsis="recolour residues from the last SaProt scan without rescoring",
    url=HELP + "#color")


# ---------------------------------------------------------------- saprot mutations
MAX_LISTED_RESIDUES = 20


def saprot_mutations(session, residues):
    """Log the 19 substitution scores of each residue, best tolerated first; returns them too."""
    from saprot_scan import InputError
    from . import report
    from .store import scan_for
    if len(residues) == 0:
        raise UserError("saprot mutations: the spec matches no residues")
    if len(residues) > MAX_LISTED_RESIDUES:
        raise UserError(f"saprot mutations: the spec matches {len(residues)} residues; "
                        f"name at most {MAX_LISTED_RESIDUES} (e.g. #1/A:52)")
    listed = {}
    for residue in residues:
        scan = scan_for(session, residue.structure, residue.chain_id)
        if scan is None:
            raise UserError(f"saprot mutations: #{residue.structure.id_string}/{residue.chain_id} has not been "
                            f"scanned; run saprot scan #{residue.structure.id_string}/{residue.chain_id} first")
        from saprot_scan import ResidueId
        rid = ResidueId(residue.chain_id, int(residue.number), str(residue.insertion_code or "").strip())
        try:
            index = scan.result.index_of(rid)
        except InputError:
            raise UserError(f"saprot mutations: residue {residue} has no SaProt score "
                            "(not an amino acid with backbone atoms)") from None
        session.logger.info(report.mutations_html(scan, index), is_html=True)
        listed[str(residue)] = scan.result.substitutions(index)
    return listed


mutations_desc = CmdDesc(
    required=[("residues", _residues_arg())],
    synopsis="list the 19 SaProt substitution scores of a residue, best tolerated first",
    url=HELP + "#mutations")


# ---------------------------------------------------------------- saprot heatmap
def saprot_heatmap(session, file_name: str, residues=None, open: bool = False):
    """Save a heatmap (PNG/SVG/PDF) of every substitution score of the scanned chains."""
    from .store import stored_scans
    path = _check_output(file_name, HEATMAP_SUFFIXES, "the heatmap")
    scans = stored_scans(session)
    if residues is not None:
        scans = [s for s in scans
                 if any(r.structure is s.target.structure and r.chain_id == s.target.chain_id for r in residues)]
    if not scans:
        raise UserError("saprot heatmap: no scanned chain to draw; run saprot scan first")
    results = [s.result for s in scans]

    def work(report, cancel):
        from saprot_scan import save_heatmap
        save_heatmap(results, path)
        return path

    def done(saved: str) -> None:
        from html import escape
        uri = Path(saved).resolve().as_uri()
        session.logger.info(f'SaProt heatmap of {len(results)} chain(s) saved to '
                            f'<a href="{escape(uri)}">{escape(saved)}</a>', is_html=True)
        if open and session.ui.is_gui:
            from chimerax.core.commands import run
            run(session, f"help {uri}", log=False)

    from .jobs import run_job
    run_job(session, "saprot heatmap", work, done)


heatmap_desc = CmdDesc(
    required=[("file_name", SaveFileNameArg)],
    optional=[("residues", _residues_arg())],
    keyword=[("open", BoolArg)],
    synopsis="save a heatmap of all SaProt substitution scores of the scanned chains",
    url=HELP + "#heatmap")


# ---------------------------------------------------------------- saprot models
def saprot_models(session):
    """List known, cached and embedded models and which one scores by default."""
    from html import escape
    from saprot_scan import models_dir
    from saprot_scan import default_model_line, model_list
    rows = [(row.name, row.status if row.available or row.kind == "embedded"
             else f"{row.status} (saprot models fetch {row.name})", row.source) for row in model_list()]
    default = default_model_line()
    table = "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{escape(c)}</td></tr>" for a, b, c in rows)
    session.logger.info(
        "<p><b>SaProt models</b></p><table border=1 cellpadding=2 style='border-collapse:collapse'>"
        f"<tr><th>name</th><th>status</th><th>source</th></tr>{table}</table>"
        f"<p>default: {escape(default)}<br>cache: {escape(str(models_dir()))}</p>", is_html=True)
    return rows


models_desc = CmdDesc(synopsis="list SaProt models and which one scores by default", url=HELP + "#models")


def saprot_models_fetch(session, name: str):
    """Download a registry model from the Hugging Face hub, export it to ONNX and cache it."""
    def work(report, cancel):
        from saprot_scan import InputError
        from saprot_scan import fetch_model, registry_entry
        registry_entry(name)  # an unknown name fails here, before anything is downloaded
        report(f"fetching {name} ...")
        try:
            return fetch_model(name, progress=False)
        except ImportError as err:
            raise InputError("fetching needs the core's export extra (torch, transformers, huggingface_hub) "
                             f"in ChimeraX's Python; missing {err.name}") from None

    def done(path) -> None:
        session.logger.info(f"SaProt model {name} cached at {path}")

    from .jobs import run_job
    run_job(session, "saprot models fetch", work, done)


fetch_desc = CmdDesc(required=[("name", StringArg)], synopsis="download and cache a SaProt model",
                     url=HELP + "#models")


def saprot_models_export(session, hf_dir: str, out: str):
    """Export a Hugging Face SaProt checkpoint folder to an ONNX file the scan can use."""
    out = _check_output(out, (".onnx",), "the model")
    if not Path(hf_dir).expanduser().is_dir():
        raise UserError(f"saprot models export: {hf_dir} is not a folder")

    def work(report, cancel):
        from saprot_scan import InputError
        report(f"exporting {hf_dir} ...")
        try:
            from saprot_scan import export_onnx
            return export_onnx(hf_dir, out)
        except ImportError as err:
            raise InputError(f"export needs torch and transformers in ChimeraX's Python; missing {err.name}") from None

    def done(report_dict) -> None:
        session.logger.info(f"SaProt model exported to {out}")

    from .jobs import run_job
    run_job(session, "saprot models export", work, done)


export_desc = CmdDesc(required=[("hf_dir", OpenFolderNameArg)], keyword=[("out", SaveFileNameArg)],
                      required_arguments=["out"], synopsis="export a SaProt checkpoint to ONNX",
                      url=HELP + "#models")


# ---------------------------------------------------------------- saprot stop
def saprot_stop(session):
    """Ask running background scans to stop; nothing of theirs is applied."""
    from .jobs import cancel_all
    count = cancel_all()
    session.logger.info(f"asked {count} running SaProt job(s) to stop" if count else "no SaProt job is running")
    return count


stop_desc = CmdDesc(synopsis="stop running SaProt scans", url=HELP + "#stop")


_COMMANDS = {
    "saprot scan": (saprot_scan, scan_desc),
    "saprot color": (saprot_color, color_desc),
    "saprot mutations": (saprot_mutations, mutations_desc),
    "saprot heatmap": (saprot_heatmap, heatmap_desc),
    "saprot models": (saprot_models, models_desc),
    "saprot models fetch": (saprot_models_fetch, fetch_desc),
    "saprot models export": (saprot_models_export, export_desc),
    "saprot stop": (saprot_stop, stop_desc),
}


def register(command_name: str, logger) -> None:
    """Register ``command_name`` (one of those listed in pyproject.toml)."""
    from chimerax.core.commands import register as cx_register
    function, desc = _COMMANDS[command_name]
    cx_register(command_name, desc, function, logger=logger)
