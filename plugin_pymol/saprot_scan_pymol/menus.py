"""Add "score mutations" (and "suggest mutations") to PyMOL's right-click menus, keeping PyMOL's own entries.

"suggest mutations" runs ``saprot_suggest`` over the scored chains: from an object's menu as it is, from a
selection's menu keeping away from that selection (an active site, an interface).

PyMOL's C code looks menu builders up by name in pymol.menu at every click, so replacing those
module attributes with wrappers is enough; each wrapper keeps the original reachable and is
installed only once, however often the plugin is loaded.
"""
from __future__ import annotations

import functools

LABEL = "score mutations"
SUGGEST_LABEL = "suggest mutations"
_ORIGINAL = "_saprot_scan_original"

# pick_option titles (PyMOL's residue/chain/object pick submenus) that get the entry
PICK_TITLES = ("Residue", "Chain", "Object")


def entry_for(selection: str) -> list:
    """A leaf entry: PyMOL runs its command string through its own parser when clicked. It keeps the user's
    last summary and palette (``saprot_scan``/``saprot_color`` remember them; menus are built at each click)."""
    from .palettes import DEFAULT_PALETTE
    from .store import STORE

    extra = "" if STORE.summary == "mean" else f", summary={STORE.summary}"
    if STORE.palette != DEFAULT_PALETTE:
        extra += f", palette={STORE.palette}"
    return [1, LABEL, f"saprot_scan {selection}{extra}"]


def suggest_entry(selection: str | None) -> list:
    """``saprot_suggest`` over every scored chain, away from ``selection`` when one is given."""
    return [1, SUGGEST_LABEL, f"saprot_suggest {selection}" if selection else "saprot_suggest"]


def _append(items: list, selection: str, suggest: str = "") -> list:
    if any(len(item) > 1 and item[1] == LABEL for item in items):
        return items
    extra = [suggest_entry(selection if suggest == "avoid" else None)] if suggest else []
    return [*items, [0, "", ""], entry_for(selection), *extra]


def _action_wrapper(original, suggest: str = ""):
    """``suggest``: "" no suggest entry, "all" suggest over the scored chains, "avoid" away from the selection."""
    @functools.wraps(original)
    def wrapper(self_cmd, sele, *args, **kwargs):
        return _append(original(self_cmd, sele, *args, **kwargs), sele, suggest)

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
    "mol_action": functools.partial(_action_wrapper, suggest="all"),      # object panel: A > ...
    "sele_action": functools.partial(_action_wrapper, suggest="avoid"),   # named selection panel: A > ...
    "sele_action2": functools.partial(_action_wrapper, suggest="avoid"),  # right-click on a picked selection
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
