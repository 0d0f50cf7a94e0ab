"""``saprot mutations``: log the 19 substitution scores of residues, best tolerated first."""
from __future__ import annotations

from chimerax.core.commands import CmdDesc
from chimerax.core.errors import UserError

from . import args


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
    required=[("residues", args.residues_arg())],
    synopsis="list the 19 SaProt substitution scores of a residue, best tolerated first",
    url=args.HELP + "#mutations")
