"""Import the saprot_scan core on demand, with a message that says how to install it when missing."""
from __future__ import annotations

import sys


class PluginError(Exception):
    """Something the user can fix; str() is the one line shown in PyMOL's feedback."""


def missing_core_message() -> str:
    return ("the saprot_scan core package is not installed in PyMOL's Python "
            f"({sys.executable}); install it with: {sys.executable} -m pip install saprot-scan "
            "(or pip install -e path/to/saprot-scan/core)")


def core():
    """The saprot_scan package, imported lazily so the plugin loads even without it."""
    try:
        import saprot_scan
        import saprot_scan.viewers  # noqa: F401 (the front-end contract; imports what scanning needs)
    except ImportError as err:
        raise PluginError(f"{missing_core_message()} [{err}]") from None
    return saprot_scan


def user_errors() -> tuple[type[BaseException], ...]:
    """Exception types whose message is meant for the user (core InputError and ours)."""
    try:
        from saprot_scan import InputError
    except ImportError:
        return (PluginError,)
    return (PluginError, InputError)
