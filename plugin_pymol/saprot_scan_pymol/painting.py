"""Write scores into the scene (colours, saprot_score, optionally b-factors) and take them back out."""
from __future__ import annotations

import math
import sys

from pymol import cmd

from .palettes import PALETTES, UNSCORED_RGB, colour_for, colour_scale, pymol_colour
from .store import STORE, Snapshot

KEY_NAME = "saprot_key"  # the colour key (a PyMOL ramp object) shown while residues are coloured
MASKED_SELECTION = "saprot_plddt_masked"  # residues whose structure token SaProt masked for low pLDDT
UNSCANNED_SELECTION = "saprot_unscanned"  # residues a stopped scan did not reach (grey; a rerun scores them)
# atoms are remembered by name, not index, so restoring survives atoms added or removed meanwhile
ATOM_IDENTITY = "(segi, chain, resi, resn, name, alt)"
_PROPERTY_SUPPORT: bool | None = None  # atom properties (p.*) exist only in Incentive PyMOL


def residue_values(summary: str, percentiles: bool = False) -> dict[tuple[str, str, str], float]:
    """(object, chain, resi) -> the per-residue summary, exactly as the core computes it (over the
    substitutions' percentiles within the chain with ``percentiles``)."""
    values = {}
    for key, entry in STORE.scores.items():
        summaries = entry.result.percentile_summary(summary) if percentiles else entry.result.summary(summary)
        for rid, value in zip(entry.result.residue_ids, summaries):
            if entry.shown is not None and rid.label not in entry.shown:
                continue  # scored for context (the chain's scale), outside the selection the user scanned
            if math.isfinite(value):
                values[(key.obj, key.chain, rid.label)] = float(value)
    return values


def snapshot(objects: list[str], *, _self=cmd) -> None:
    """Remember colours and b-factors of objects the plugin has not touched yet."""
    for obj in objects:
        if obj in STORE.snapshots:
            continue
        rows: dict[tuple, tuple[int, float]] = {}
        _self.iterate(f"%{obj}", f"rows[{ATOM_IDENTITY}] = (color, b)", space={"rows": rows})
        STORE.snapshots[obj] = Snapshot(len(rows), rows)


def _store_property(selection: str, values: dict, *, _self=cmd) -> bool:
    """Set p.saprot_score where PyMOL supports atom properties; say whether it did."""
    global _PROPERTY_SUPPORT
    if _PROPERTY_SUPPORT is False:
        return False
    try:
        _self.alter(selection, "p.saprot_score = _v.get((model, chain, resi), p.saprot_score)",
                  space={"_v": values})
        _PROPERTY_SUPPORT = True
    except Exception as err:  # open-source PyMOL raises IncentiveOnlyException
        if "Incentive" not in type(err).__name__ and "ncentive" not in str(err):
            raise
        _PROPERTY_SUPPORT = False
    return bool(_PROPERTY_SUPPORT)


def paint(summary: str, palette: str, bfactor: bool, *, _self=cmd) -> dict[tuple[str, str, str], float]:
    """Colour every scored residue; grey the protein residues of scanned objects that have no score."""
    with STORE.lock:
        values = residue_values(summary)
        objects = sorted({key.obj for key in STORE.scores})
        snapshot(objects, _self=_self)
        scale = colour_residues(objects, values, palette, summary, _self=_self)
        show_key(scale, palette, _self=_self)
        select_masked(_self=_self)
        select_unmeasured(_self=_self)
        select_interface(_self=_self)
        select_unscanned(_self=_self)
        for obj in objects:
            protein = f"%{obj} and polymer.protein"
            if bfactor:
                _self.alter(protein, "b = _v.get((model, chain, resi), b)", space={"_v": values})
            _store_property(protein, values, _self=_self)
        _self.recolor()
        STORE.summary, STORE.palette, STORE.bfactor = summary, palette, bfactor
        STORE.painted = values
        STORE.percentiles = residue_values(summary, percentiles=True)
        STORE.scale = scale
    return values


def colour_residues(objects: list[str], values: dict[tuple[str, str, str], float], palette: str,
                    summary: str = "mean", *, _self=cmd):
    """Palette colour for every residue with a value (the core's scale for ``summary``); grey for the other
    protein residues. Returns the scale used."""
    scale = colour_scale(values.values(), summary)
    colours = {k: pymol_colour(colour_for(v, scale, palette)) for k, v in values.items()}
    grey = pymol_colour(UNSCORED_RGB)
    untouched = {(key.obj, key.chain, rid.label) for key, entry in STORE.scores.items() if entry.shown is not None
                 for rid in entry.result.residue_ids if rid.label not in entry.shown}
    for obj in objects:  # residues outside a scanned selection keep their colour; unscored ones turn grey
        _self.alter(f"%{obj} and polymer.protein",
                    "color = _c.get((model, chain, resi), color if (model, chain, resi) in _keep else _grey)",
                    space={"_c": colours, "_grey": grey, "_keep": untouched})
    _self.recolor()
    return scale


def show_key(scale, palette: str, *, _self=cmd) -> None:
    """The colour key: a ramp object ``saprot_key`` with the scale's three stops and the palette's colours."""
    _self.delete(KEY_NAME)
    _self.ramp_new(KEY_NAME, "none", list(scale.stops()), [list(rgb) for rgb in PALETTES[palette]], quiet=1)


def select_masked(*, _self=cmd) -> int:
    """Selection ``saprot_plddt_masked``: scored residues SaProt masked for low pLDDT (removed when none)."""
    from saprot_scan.viewers import plddt_masked

    return _select(MASKED_SELECTION, lambda result: [rid.label for rid, flag in
                                                     zip(result.residue_ids, plddt_masked(result)) if flag],
                   _self=_self)


def select_unscanned(*, _self=cmd) -> int:
    """Selection ``saprot_unscanned``: residues of partial (stopped) scans that have no score yet (removed when
    none)."""
    return _select(UNSCANNED_SELECTION, lambda result: [rid.label for rid, flag in
                                                        zip(result.residue_ids, result.scanned) if not flag],
                   _self=_self)


def select_unmeasured(*, _self=cmd) -> int:
    """Selection ``saprot_unmeasured``: residues of fitted scans no assay label touched (removed when none)."""
    from saprot_scan.viewers import unmeasured_labels

    return _select(_unmeasured_name(), unmeasured_labels, _self=_self)


def select_interface(*, _self=cmd) -> int:
    """Selection ``saprot_interface``: scored residues with an atom within 5 A of another chain (removed when none)."""
    from saprot_scan.viewers import INTERFACE_NAME, interface_labels

    return _select(INTERFACE_NAME, interface_labels, _self=_self)


def _unmeasured_name() -> str:
    """The selection's name, from the core (which is loaded whenever there was anything to paint)."""
    from saprot_scan.viewers import UNMEASURED_NAME

    return UNMEASURED_NAME


def _select(name: str, labels_of, *, _self=cmd) -> int:
    """Selection ``name`` of the residues ``labels_of(result)`` names in every scored chain (removed when none)."""
    parts = []
    for key, entry in STORE.scores.items():
        labels = [label.replace("-", "\\-") for label in labels_of(entry.result)]
        if labels:
            parts.append(f"({key.selection()} and resi " + "+".join(labels) + ")")
    _self.delete(name)
    if parts:
        _self.select(name, " or ".join(parts), enable=0)
    return len(parts)


def restore(*, _self=cmd) -> list[str]:
    """Put colours and b-factors back as they were before the first scan; returns objects restored."""
    restored = []
    with STORE.lock:
        for obj, snap in list(STORE.snapshots.items()):
            if obj not in _self.get_names("objects"):
                continue
            _self.alter(f"%{obj}", f"(color, b) = _s.get({ATOM_IDENTITY}, (color, b))",
                      space={"_s": snap.by_atom})
            if _PROPERTY_SUPPORT:
                _self.alter(f"%{obj}", "p.saprot_score = None")
            restored.append(obj)
        STORE.snapshots.clear()
        STORE.painted = {}
        STORE.percentiles = {}
        _self.delete(KEY_NAME)
        _self.delete(MASKED_SELECTION)
        _self.delete(UNSCANNED_SELECTION)
        if "saprot_scan.viewers" in sys.modules:  # without the core nothing was ever selected
            from saprot_scan.viewers import INTERFACE_NAME

            _self.delete(_unmeasured_name())
            _self.delete(INTERFACE_NAME)
        _self.recolor()
    return restored

