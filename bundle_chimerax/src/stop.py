"""``saprot stop``: ask running background scans to stop."""
from __future__ import annotations

from chimerax.core.commands import CmdDesc

from . import args


def saprot_stop(session):
    """Ask running background scans to stop; nothing of theirs is applied."""
    from .jobs import cancel_all
    count = cancel_all()
    session.logger.info(f"asked {count} running SaProt job(s) to stop" if count else "no SaProt job is running")
    return count


stop_desc = CmdDesc(synopsis="stop running SaProt scans", url=args.HELP + "#stop")
