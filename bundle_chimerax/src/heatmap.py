"""``saprot heatmap``: save a heatmap of every substitution score of the scanned chains."""
from __future__ import annotations

from pathlib import Path

from chimerax.core.commands import BoolArg, CmdDesc, SaveFileNameArg
from chimerax.core.errors import UserError

from . import args


def saprot_heatmap(session, file_name: str, residues=None, open: bool = False):
    """Save a heatmap (PNG/SVG/PDF) of every substitution score of the scanned chains."""
    from .store import stored_scans
    path = args.check_output(file_name, args.HEATMAP_SUFFIXES, "the heatmap")
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
    optional=[("residues", args.residues_arg())],
    keyword=[("open", BoolArg)],
    synopsis="save a heatmap of all SaProt substitution scores of the scanned chains",
    url=args.HELP + "#heatmap")
