"""Add "score mutations" to PyMOL's right-click menus, keeping every entry PyMOL already has.

PyMOL's C code looks menu builders up by name in pymol.menu at every click, so replacing those
module attributes with wrappers is enough; each wrapper keeps the original reachable and is
installed only once, however often the plugin is loaded.
"""
from __future__ import annotations

import functools

LABEL = "score mutations"
_ORIGINAL = "_saprot_scan_original"

# pick_option titles (PyMOL's residue/chain/object pick submenus) that get the entry
PICK_TITLES = ("Residue", "Chain", "Object")


def entry_for(selection: str) -> list:
    """A leaf entry: PyMOL runs its command string through its own parser when clicked."""
    return [1, LABEL, f"saprot_scan {selection}"]


def _append(items: list, selection: str) -> list:
    if any(len(item) > 1 and item[1] == LABEL for item in items):
        return items
    return [*items, [0, "", ""], entry_for(selection)]


def _action_wrapper(original):
    @functools.wraps(original)
    def wrapper(self_cmd, sele, *args, **kwargs):
        return _append(original(self_cmd, sele, *args, **kwargs), sele)

    setattr(wrapper, _ORIGINAL, original)
    return wrapper


def _pick_wrapper(original):
    @functools.wraps(original)
    def wrapper(self_cmd, sele, title, object=0, *args, **kwargs):
        items = original(self_cmd, sele, title, object, *args, **kwargs)
        if title not in PICK_TITLES:
            return items
        target = self_cmd.identify(sele, 1)[0][0] if int(object) else sele
        return _append(items, target)

    setattr(wrapper, _ORIGINAL, original)
    return wrapper


WRAPPERS = {
    "mol_action": _action_wrapper,    # object panel: A > ...
    "sele_action": _action_wrapper,   # named selection panel: A > ...
    "sele_action2": _action_wrapper,  # right-click on a picked selection: actions > ...
    "pick_option": _pick_wrapper,     # right-click on an atom: residue / chain / object
    "seq_option": _action_wrapper,    # right-click in the sequence viewer
}


def install(menu_module=None) -> list[str]:
    """Wrap PyMOL's menu builders once; returns the names wrapped by this call."""
    if menu_module is None:
        from pymol import menu as menu_module
    wrapped = []
    for name, make in WRAPPERS.items():
        current = getattr(menu_module, name, None)
        if current is None or hasattr(current, _ORIGINAL):
            continue
        setattr(menu_module, name, make(current))
        wrapped.append(name)
    return wrapped


def uninstall(menu_module=None) -> None:
    """Put PyMOL's own builders back (tests, plugin reload)."""
    if menu_module is None:
        from pymol import menu as menu_module
    for name in WRAPPERS:
        current = getattr(menu_module, name, None)
        original = getattr(current, _ORIGINAL, None)
        if original is not None:
            setattr(menu_module, name, original)
