"""Install everything the plugin adds to a running PyMOL, once."""
from __future__ import annotations

import pymol

from . import commands, core_offer, feedback, menus
from .jobs import gui_running
from .store import saprot_native, saprot_percentile, saprot_score

MENU_LABEL = "saprot-scan"


def install() -> None:
    commands.register()
    menus.install()
    feedback.show_core_warnings()
    # open-source PyMOL has no atom properties: make the number readable in iterate/alter
    pymol.saprot_score = saprot_score
    pymol.saprot_native = saprot_native
    pymol.saprot_percentile = saprot_percentile
    _add_plugin_menu_item()
    core_offer.offer_at_start(gui=gui_running())  # last: the commands exist when the user is asked


def _add_plugin_menu_item() -> None:
    """Plugin > saprot-scan, when PyMOL runs with its Qt GUI (headless PyMOL has no menu bar)."""
    try:
        from pymol.plugins import addmenuitemqt
    except ImportError:
        return
    from .dialog import open_dialog

    if getattr(pymol, "_saprot_scan_menu_item", False):
        return
    try:
        addmenuitemqt(MENU_LABEL, open_dialog)
    except Exception:  # QtNotAvailableError without a GUI
        return
    pymol._saprot_scan_menu_item = True
