"""``saprot stop``: ask running background scans to stop."""
from __future__ import annotations

from chimerax.core.commands import CmdDesc

from . import args


def saprot_stop(session):
    """Ask running scans to stop; a masked scan keeps the residues it finished (partial), and the next scan of
    the chain resumes from them."""
    from .jobs import cancel_all
    count = cancel_all()
    session.logger.info(f"asked {count} running SaProt job(s) to stop" if count else "no SaProt job is running")
    return count


stop_desc = CmdDesc(synopsis="stop running SaProt scans", url=args.HELP + "#stop")
