"""Start a real, headless ChimeraX session from the PyPI wheel, the way the launcher would.

The steps mirror ``chimerax.core.__main__.init`` for ``--nogui [--offscreen]``: create the
session, initialise settings, misc commands and the attribute registry, start the toolshed and
let every installed bundle register and initialise.  Only the gaps listed in
``wheel_workarounds`` are patched.  ChimeraX allows one session per process.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from . import wheel_workarounds

_session = None


def start_session(offscreen: bool = False, root: Path | None = None):
    """Return the process's ChimeraX session, starting it on first use."""
    global _session
    if _session is not None:
        return _session
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="chimerax-home-"))
    wheel_workarounds.prepare_environment(root, offscreen)

    import builtins
    builtins.__dict__.setdefault("line_profile", lambda f: f)  # the launcher installs this too

    from chimerax.core import attributes, core_settings, session, toolshed
    sess = session.Session("ChimeraX", offscreen_rendering=offscreen)
    core_settings.init(sess)
    session.register_misc_commands(sess)
    attributes.RegAttrManager(sess)
    from chimerax.core.nogui import NoGuiLog
    sess.logger.add_log(NoGuiLog())

    toolshed.init(sess.logger, debug=False, check_available=False, session=sess)
    sess.toolshed = toolshed.get_toolshed()
    sess.toolshed.bootstrap_bundles(sess, False)
    from chimerax.core import tools, undo
    sess.tools = tools.Tools(sess, first=True)
    sess.undo = undo.Undo(sess, first=True)
    _session = sess
    return sess


def run(sess, command: str, log: bool = True):
    """Run one ChimeraX command line and return its result (what ``run`` returns)."""
    from chimerax.core.commands import run as cx_run
    return cx_run(sess, command, log=log)
