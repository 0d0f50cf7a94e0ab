"""``saprot color``: recolour from the scans kept in the session, without rescoring."""
from __future__ import annotations

from chimerax.core.commands import BoolArg, CmdDesc, ColormapArg, StringArg
from chimerax.core.errors import UserError

from . import args, coloring


def saprot_color(session, residues=None, summary: str = "mean", palette=None, key: bool = True):
    """Recolour from stored scans without rescoring, optionally with another summary or palette."""
    from .store import stored_scans
    kind = args.check_summary(summary)
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
    coloring.color_and_log(session, scans, kind, palette, key, None, None, register_sets=False,
                   color_residues=color_residues)


color_desc = CmdDesc(
    optional=[("residues", args.residues_arg())],
    keyword=[("summary", StringArg), ("palette", ColormapArg), ("key", BoolArg)],
    synopsis="recolour residues from the last SaProt scan without rescoring",
    url=args.HELP + "#color")
