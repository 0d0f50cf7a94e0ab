"""Every PyMOL command of the plugin, by name, and their registration with argument completion.

The commands themselves live with what they do: ``scan_commands`` (scan, colour, mutations, restore, cancel),
``export_commands`` (heatmap, CSV), ``suggesting``, ``designing``, ``batch_load``, ``core_offer`` (installing
the core) and ``dialog``. This module only lists them, so nothing imports it but the plugin's start-up.
"""
from __future__ import annotations

from pymol import cmd

from .batch_load import saprot_load
from .core_offer import saprot_install_core
from .designing import saprot_design
from .dialog import saprot_dialog
from .export_commands import saprot_csv, saprot_heatmap
from .known_commands import saprot_known
from .palettes import PALETTES
from .scan_commands import saprot_cancel, saprot_color, saprot_mutations, saprot_restore, saprot_scan
from .scanning import METHODS
from .suggesting import saprot_suggest


def _model_names() -> list[str]:
    names = ["default"]
    try:
        from saprot_scan import registry

        names += list(registry())
    except Exception:
        pass
    return names


COMMANDS = {
    "saprot_scan": saprot_scan,
    "saprot_suggest": saprot_suggest,
    "saprot_known": saprot_known,
    "saprot_design": saprot_design,
    "saprot_color": saprot_color,
    "saprot_heatmap": saprot_heatmap,
    "saprot_csv": saprot_csv,
    "saprot_mutations": saprot_mutations,
    "saprot_restore": saprot_restore,
    "saprot_cancel": saprot_cancel,
    "saprot_dialog": saprot_dialog,
    "saprot_load": saprot_load,
    "saprot_install_core": saprot_install_core,
}


def register() -> None:
    """Add the commands with argument completion (idempotent: re-registering replaces)."""
    from pymol.shortcut import Shortcut

    for name, function in COMMANDS.items():
        cmd.extend(name, function)
    selection = cmd.auto_arg[0]["zoom"]
    summaries = [lambda: Shortcut(["mean", "min", "max", *"ACDEFGHIKLMNPQRSTVWY"]), "summary", ", "]
    palettes = [lambda: Shortcut(list(PALETTES)), "palette", ", "]
    table = {
        "saprot_scan": [selection, [lambda: Shortcut(_model_names()), "model", ", "],
                        [lambda: Shortcut(list(METHODS)), "method", ", "], summaries, palettes],
        "saprot_color": [summaries, palettes],
        "saprot_mutations": [selection],
        "saprot_suggest": [selection],
        "saprot_design": [selection, [lambda: Shortcut(_model_names()), "model", ", "], palettes],
    }
    for name, columns in table.items():
        for i, spec in enumerate(columns):
            while len(cmd.auto_arg) <= i:
                cmd.auto_arg.append({})
            cmd.auto_arg[i][name] = spec
