"""One voice for the plugin in PyMOL's feedback area: short lines, errors in PyMOL's error colour."""
from __future__ import annotations

import warnings

PREFIX = " saprot_scan: "


def say(message: str) -> None:
    print(PREFIX + message, flush=True)


def warn(message: str) -> None:
    try:
        from pymol import colorprinting

        colorprinting.warning(PREFIX + message)
    except ImportError:
        say(message)


def fail(message: str) -> None:
    """Report bad input as PyMOL's own commands do: an error line, no traceback."""
    try:
        from pymol import colorprinting

        colorprinting.error(PREFIX + message)
    except ImportError:
        say(message)


def show_core_warnings() -> None:
    """Show the core's own warnings (a saved model that cannot load, ...) as one plugin line in PyMOL's log
    instead of Python's file:line form; every other warning goes where it went before. Idempotent."""
    shown = warnings.showwarning
    if getattr(shown, "_saprot_scan", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if category.__name__ == "SettingsWarning" and category.__module__ == "saprot_scan.errors":
            warn(str(message))
        else:
            shown(message, category, filename, lineno, file, line)

    show._saprot_scan = True
    warnings.showwarning = show
