"""One voice for the plugin in PyMOL's feedback area: short lines, errors in PyMOL's error colour."""
from __future__ import annotations

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
