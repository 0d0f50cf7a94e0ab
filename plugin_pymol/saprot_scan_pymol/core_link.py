"""Import the saprot_scan core on demand, with a message that says how to install it when missing."""
from __future__ import annotations

from .core_install import install_target, pymol_python, terminal_command
from .errors import PluginError

__all__ = ["PluginError", "core", "missing_core_message", "user_errors"]


def missing_core_message() -> str:
    try:
        python = pymol_python()
    except PluginError as err:
        return f"the saprot_scan core package is not installed in PyMOL's Python; {err}"
    try:
        target = install_target()
    except PluginError as err:  # nothing to install from: say how to get the core
        return f"the saprot_scan core package is not installed in PyMOL's Python ({python}); {err}"
    return (f"the saprot_scan core package is not installed in PyMOL's Python ({python}); type "
            f"saprot_install_core to install it, or run in a terminal: {terminal_command(python, target)}")


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
