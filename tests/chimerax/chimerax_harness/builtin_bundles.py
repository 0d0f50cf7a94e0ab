"""Metadata for the built-in ChimeraX bundles that the PyPI wheel leaves out.

WORKAROUND (wheel gap): the ``chimerax`` 0.1.71 wheel installs every bundle's code as one Python
distribution named ``ChimeraX`` with no per-bundle ``METADATA``.  The toolshed learns which
commands, selectors, data formats and managers a bundle offers from that metadata alone, so a
session started from the wheel knows no commands at all (``Unknown command: open``).

A real ChimeraX install has one distribution per bundle whose ``METADATA`` carries classifier lines
written by the bundle builder.  This module lists, for the few bundles the tests need, the facts
those classifier lines state (names, managers, providers, commands, selectors), in the
classifier syntax the toolshed parses, so that ChimeraX's own parser
(``chimerax.core.toolshed.installed._make_bundle_info``) turns them into ``BundleInfo`` objects.
The facts are transcribed from each bundle's ``bundle_info.xml`` in ChimeraX 1.7.1; only the
entries the tests touch are listed.  Nothing here is used by the saprot bundle itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BuiltinBundle:
    """One built-in bundle: its distribution name, version and ChimeraX classifier lines."""

    name: str
    version: str
    classifiers: tuple[str, ...] = field(default_factory=tuple)


def _bundle(categories: str, module: str, custom_init: bool = False, sessions: str = "1,1") -> str:
    init = "true" if custom_init else ""
    return f"ChimeraX :: Bundle :: {categories} :: {sessions} :: {module} :: :: {init}"


def _commands(category: str, *names: str) -> tuple[str, ...]:
    return tuple(f"ChimeraX :: Command :: {n} :: {category} :: {n}" for n in names)


def _data_format(name: str, category: str, suffixes: str, **extra: str) -> str:
    keys = "".join(f" :: {k}:{v}" for k, v in extra.items())
    return (f"ChimeraX :: Provider :: {name} :: data formats :: category:{category}"
            f" :: suffixes:{suffixes}{keys}")


def _provider(name: str, manager: str, **extra: str) -> str:
    keys = "".join(f" :: {k}:{v}" for k, v in extra.items())
    return f"ChimeraX :: Provider :: {name} :: {manager}{keys}"


BUILTIN_BUNDLES: tuple[BuiltinBundle, ...] = (
    # Core, Graphics and Geometry own classes saved in sessions; the session writer looks their
    # bundle up by Python package.
    BuiltinBundle("ChimeraX-Core", "1.7.1", (_bundle("Core", "chimerax.core", sessions="1,2"),)),
    BuiltinBundle("ChimeraX-Graphics", "1.1.1", (_bundle("Graphics", "chimerax.graphics"),)),
    BuiltinBundle("ChimeraX-Geometry", "1.3", (_bundle("Geometry", "chimerax.geometry"),)),
    # Surface's custom init creates the surface settings that saving the view reads.
    BuiltinBundle("ChimeraX-Surface", "1.0.1", (
        _bundle("Surface", "chimerax.surface", custom_init=True),
    ) + _commands("Surfaces", "surface", "~surface")),
    BuiltinBundle("ChimeraX-DataFormats", "1.2.3", (
        _bundle("Utilities", "chimerax.data_formats"),
        "ChimeraX :: Manager :: data formats",
    )),
    BuiltinBundle("ChimeraX-OpenCommand", "1.13.1", (
        _bundle("Commands", "chimerax.open_command"),
        "ChimeraX :: Manager :: open command",
        "ChimeraX :: InitAfter :: manager :: ChimeraX-DataFormats",
    ) + _commands("General", "open", "usage open")),
    BuiltinBundle("ChimeraX-SaveCommand", "1.5.1", (
        _bundle("Commands", "chimerax.save_command"),
        "ChimeraX :: Manager :: save command",
        "ChimeraX :: InitAfter :: manager :: ChimeraX-DataFormats",
    ) + _commands("General", "save", "usage save")),
    BuiltinBundle("ChimeraX-CoreFormats", "1.2", (
        _bundle("Atomic Data", "chimerax.core_formats"),
        _data_format("ChimeraX session", "Session", ".cxs", nicknames="session",
                     mime_types="application/x-chimerax-session"),
        _data_format("ChimeraX commands", "Command script", ".cxc", nicknames="cmd"),
        _data_format("Python", "Command script", ".py"),
        _provider("ChimeraX session", "open command", want_path="true"),
        _provider("ChimeraX commands", "open command", want_path="true"),
        _provider("Python", "open command"),
        _provider("ChimeraX session", "save command", compression_okay="false"),
    )),
    BuiltinBundle("ChimeraX-ImageFormats", "1.2", (
        _bundle("I/O", "chimerax.image_formats"),
        _data_format("Portable Network Graphics", "Image", ".png", nicknames="png",
                     default_for=".png"),
        _provider("Portable Network Graphics", "save command"),
    )),
    BuiltinBundle("ChimeraX-Atomic", "1.49.1", (
        _bundle("Structure Analysis,Structure Editing", "chimerax.atomic", custom_init=True),
        "ChimeraX :: Manager :: sequence features :: autostart:false",
        "ChimeraX :: Selector :: protein :: proteins",
        "ChimeraX :: Selector :: nucleic :: nucleic acids",
        "ChimeraX :: Selector :: ligand :: ligands",
        "ChimeraX :: Selector :: solvent :: solvent",
        "ChimeraX :: Selector :: ions :: ions",
        "ChimeraX :: Selector :: backbone :: backbone atoms",
        "ChimeraX :: Selector :: sidechain :: side-chain atoms",
        "ChimeraX :: Selector :: helix :: protein helices",
        "ChimeraX :: Selector :: strand :: beta sheet strands",
        "ChimeraX :: Selector :: C :: C (element)",
    ) + _commands("General", "log chains")),
    BuiltinBundle("ChimeraX-PDB", "2.7.3", (
        _bundle("Molecular structure", "chimerax.pdb"),
        _data_format("PDB", "Molecular structure", ".pdb,.ent", default_for=".pdb",
                     encoding="utf-8"),
        _provider("PDB", "open command"),
        _provider("PDB", "save command", compression_okay="false"),
    )),
    BuiltinBundle("ChimeraX-mmCIF", "2.12.1", (
        _bundle("Molecular structure", "chimerax.mmcif"),
        _data_format("mmCIF", "Molecular structure", ".cif,.mmcif", default_for=".mmcif,.cif",
                     encoding="utf-8"),
        _provider("mmCIF", "open command", want_path="true"),
        _provider("mmCIF", "save command", compression_okay="false"),
    )),
    BuiltinBundle("ChimeraX-StdCommands", "1.12.4", (
        _bundle("General", "chimerax.std_commands", custom_init=True),
        "ChimeraX :: Selector :: sel :: selected atoms",
        "ChimeraX :: Selector :: all :: everything",
    ) + _commands("General", "cartoon", "~cartoon", "close", "color", "colour", "color name",
                  "delete", "exit", "hide", "~show", "lighting", "palette", "rename", "select",
                  "~select", "set", "setattr", "show", "style", "usage", "version", "view",
                  "windowsize", "zoom", "dssp", "runscript", "cd", "pwd", "alias")),
    BuiltinBundle("ChimeraX-ListInfo", "1.2.2", (
        _bundle("General", "chimerax.list_info"),
    ) + _commands("General", "info")),
    BuiltinBundle("ChimeraX-ColorKey", "1.5.5", (
        _bundle("General", "chimerax.color_key"),
    ) + _commands("General", "key", "~key")),
    BuiltinBundle("ChimeraX-Label", "1.1.8", (
        _bundle("General", "chimerax.label", custom_init=True),  # its initialize() sets up label settings
    ) + _commands("General", "label", "~label", "2dlabels")),
)
