"""Write a scan back to ChimeraX: the ``saprot_score`` attribute, ribbon/atom colours and a colour key.

Colours follow a diverging palette centred on 0 (a SaProt score of 0 means "as likely as the wild
type"): red for intolerant, white at 0, blue for tolerated.  Residues without a score are grey.
"""
from __future__ import annotations

import numpy as np

from .store import ATTR_NAME, StoredScan, register_attribute

from saprot_scan.viewers import CENTRE_HEX, INTOLERANT_HEX as INTOLERANT, TOLERATED_HEX as TOLERATED, UNSCORED_RGB8
from saprot_scan.viewers import ColourScale, colour_limit, colour_scale

UNSCORED_RGBA8 = (*UNSCORED_RGB8, 255)
#: Named spec of the scanned residues SaProt masked for low pLDDT (struct token '#'), as PyMOL's selection.
MASKED_NAME = "saprot_plddt_masked"
#: Named spec of the residues a stopped scan did not reach (grey; the next scan scores them), as PyMOL's.
UNSCANNED_NAME = "saprot_unscanned"


def symmetric_limit(values: np.ndarray) -> float:
    """Size of the colour range (the core's rule for every viewer): the 95th percentile of |value| rounded up
    to a half unit, at least 0.5."""
    return colour_limit(np.asarray(values, dtype=float).ravel())


def scale_for(values: np.ndarray, kind: str = "mean"):
    """The core's colour scale for ``kind`` (symmetric; one-sided for ``min``), as PyMOL and the heatmap use."""
    return colour_scale(np.asarray(values, dtype=float).ravel().tolist(), kind)


def default_colormap(scale):
    """Red (intolerant) - white - blue (tolerated) over the scale's stops (a number = -limit, 0, +limit);
    values beyond clip to the end colours."""
    from chimerax.core.colors import Color, Colormap
    if not isinstance(scale, ColourScale):
        scale = ColourScale(-float(scale), 0.0, float(scale))
    return Colormap(scale.stops(), (Color(INTOLERANT).rgba, Color(CENTRE_HEX).rgba, Color(TOLERATED).rgba))


def centred_colormap(palette, values: np.ndarray, kind: str = "mean"):
    """The palette to colour ``values`` with: the user's (spread over the scale unless it has values) or ours."""
    scale = scale_for(values, kind)
    if palette is None:
        return default_colormap(scale)
    if getattr(palette, "values_specified", False):
        return palette
    return palette.linear_range(scale.low, scale.high)


def summary_values(scan: StoredScan, kind: str) -> np.ndarray:
    return np.asarray(scan.result.summary(kind), dtype=float)


def attach_values(target, residue_ids, attr_name: str, values, colour_by=None) -> dict:
    """Set residue attribute ``attr_name`` to each finite value (clearing a stale one where there is none) on
    ``target``'s residues, and return residue -> the number it is coloured by (``colour_by``, else the value)."""
    from .targets import residue_lookup
    lookup = residue_lookup(target)
    colour_by = values if colour_by is None else colour_by
    coloured_by = {}
    for rid, value, colour in zip(residue_ids, values, colour_by):
        residue = lookup.get((rid.number, rid.icode))
        if residue is None:
            continue
        if np.isfinite(value):
            setattr(residue, attr_name, float(value))
            coloured_by[residue] = float(colour)
        elif hasattr(residue, attr_name):
            setattr(residue, attr_name, None)
    return coloured_by


def paint(residues, coloured_by: dict, colormap) -> tuple[int, int]:
    """Colour ``residues`` (ribbon and atoms) by their number in ``coloured_by``, grey where they have none.
    Returns (coloured, grey)."""
    coloured = grey = 0
    for residue in residues:
        if residue.deleted:
            continue
        if residue in coloured_by:
            rgba = colormap.interpolated_rgba8([coloured_by[residue]])[0]
            coloured += 1
        else:
            rgba = np.array(UNSCORED_RGBA8, dtype=np.uint8)
            grey += 1
        residue.ribbon_color = rgba
        atoms = residue.atoms
        atoms.colors = np.tile(rgba, (len(atoms), 1))
    return coloured, grey


def apply_scan(session, scan: StoredScan, kind: str, colormap, color_residues=None) -> dict:
    """Set ``saprot_score`` on every scored residue of the chain and colour the residues in the spec.

    Returns counts for the log: scored, coloured, grey.
    """
    from saprot_scan.viewers import PERCENTILE_ATTR
    register_attribute(session)
    scored = attach_values(scan.target, scan.result.residue_ids, ATTR_NAME, summary_values(scan, kind))
    attach_values(scan.target, scan.result.residue_ids, PERCENTILE_ATTR, scan.result.percentile_summary(kind))
    mark_interface(scan)
    targets = scan.target.spec_residues if color_residues is None else color_residues
    coloured, grey = paint(targets, scored, colormap)
    return {"scored": len(scored), "coloured": coloured, "grey": grey}


def key_command(colormap) -> str:
    """The ``key`` command that shows ``colormap`` with its values as labels."""
    from chimerax.core.colors import hex_color, rgba_to_rgba8
    parts = [f"{hex_color(rgba_to_rgba8(rgba))}:{value:g}"
             for value, rgba in zip(colormap.data_values, colormap.colors)]
    return "key " + " ".join(parts) + " pos 0.1,0.14 size 0.35,0.04"


def show_key(session, colormap) -> None:
    from chimerax.core.commands import run
    run(session, key_command(colormap), log=True)


def name_masked(session, scans) -> int:
    """A selector ``saprot_plddt_masked`` (``select saprot_plddt_masked``) for the pLDDT-masked residues of
    ``scans`` (the heatmap's triangle row, PyMOL's selection of the same name); removed when none is masked.
    Returns how many residues it names."""
    from saprot_scan.viewers import plddt_masked
    return _name_residues(session, scans, MASKED_NAME, plddt_masked, "residues SaProt masked for low pLDDT")


def name_unmeasured(session, scans) -> int:
    """A selector ``saprot_unmeasured`` for the residues of fitted scans no assay label touched (the heatmap's
    crosses, PyMOL's selection of the same name); removed when there are none. Returns how many it names."""
    from saprot_scan.viewers import UNMEASURED_NAME
    return _name_residues(session, scans, UNMEASURED_NAME,
                          lambda result: [not flag for flag in result.measured] if result.measured else [],
                          "residues a fitted model had no assay label for")


def mark_interface(scan) -> None:
    """Residue attribute ``saprot_interface``: True / False where the scan knows the chain's contacts with other
    chains (left unset for a chain scanned alone)."""
    from saprot_scan.viewers import INTERFACE_NAME
    from .targets import residue_lookup
    if not scan.result.interface:
        return
    lookup = residue_lookup(scan.target)
    for rid, flag in zip(scan.result.residue_ids, scan.result.interface):
        residue = lookup.get((rid.number, rid.icode))
        if residue is not None:
            setattr(residue, INTERFACE_NAME, bool(flag))


def name_interface(session, scans) -> int:
    """A selector ``saprot_interface`` for residues with an atom within 5 Å of another chain (PyMOL's selection
    of the same name, the heatmap's squares); removed when there are none. Returns how many it names."""
    from saprot_scan.viewers import INTERFACE_NAME
    return _name_residues(session, scans, INTERFACE_NAME, lambda result: list(result.interface),
                          "residues touching another chain of the structure")


def name_unscanned(session, scans) -> int:
    """A selector ``saprot_unscanned`` for the residues of partial (stopped) scans that have no score yet;
    removed when there are none. Returns how many it names."""
    return _name_residues(session, scans, UNSCANNED_NAME,
                          lambda result: [not flag for flag in result.scanned] if result.partial else [],
                          "residues a stopped SaProt scan did not reach")


def _name_residues(session, scans, name: str, flags_of, desc: str) -> int:
    """Register selector ``name`` for the residues ``flags_of(result)`` marks True (deregistered when none)."""
    from chimerax.core.commands import deregister_selector, register_selector
    from chimerax.core.commands.atomspec import get_selector
    from .targets import residue_lookup
    residues = []
    for scan in scans:
        lookup = residue_lookup(scan.target)
        for rid, flag in zip(scan.result.residue_ids, flags_of(scan.result)):
            residue = lookup.get((rid.number, rid.icode)) if flag else None
            if residue is not None:
                residues.append(residue)
    if get_selector(name) is not None:
        deregister_selector(name, session.logger)
    if residues:
        def select(session, models, results, residues=tuple(residues)):
            for residue in residues:
                if not residue.deleted and residue.structure in models:
                    results.add_atoms(residue.atoms)
        register_selector(name, select, session.logger, desc=desc)
    return len(residues)


def color_and_log(session, scans, kind: str, palette, key: bool, heatmap: str | None, csv: str | None,
                  register_sets: bool, color_residues: dict | None = None) -> None:
    """Colour the scans' residues, show the key, log the summary; register mutation-score sets after a scan."""
    import numpy as np
    from . import mutation_scores_bridge, report
    values = np.concatenate([summary_values(s, kind) for s in scans])
    colormap = centred_colormap(palette, values, kind)
    counts = [apply_scan(session, s, kind, colormap,
                                  None if color_residues is None else color_residues.get(id(s)))
              for s in scans]
    if key:
        show_key(session, colormap)
    if name_masked(session, scans):
        session.logger.info(f"pLDDT-masked residues: named {MASKED_NAME} (select {MASKED_NAME})")
    unmeasured = name_unmeasured(session, scans)
    if unmeasured:
        from saprot_scan.viewers import UNMEASURED_NAME
        session.logger.info(f"{unmeasured} residues had no assay label: their fitted scores rest on the zero-shot "
                            f"score and the amino-acid term only (select {UNMEASURED_NAME})")
    touching = name_interface(session, scans)
    if touching:
        from saprot_scan.viewers import INTERFACE_NAME, one_chain_note
        session.logger.info(f"{touching} residues touch another chain (select {INTERFACE_NAME}); "
                            f"{one_chain_note([scan.result for scan in scans])}")
    name_unscanned(session, scans)
    for scan in scans:
        if scan.result.partial:
            session.logger.info(f"SaProt scan {scan.target.label}: {scan.result.partial_text()}; the rest are grey "
                                f"(select {UNSCANNED_NAME})")
    scale = scale_for(values, kind)
    session.logger.info(report.scan_summary_html(scans, kind, counts, heatmap, csv, -scale.low, scale.describe()),
                        is_html=True)
    if register_sets:
        if mutation_scores_bridge.mutation_scores_available():
            names = mutation_scores_bridge.register(session, scans)
            session.logger.info(f"Registered mutation score sets {', '.join(names)} (score name "
                                f"'{mutation_scores_bridge.SCORE_NAME}') for the mutationscores commands")
        else:
            session.logger.info("This ChimeraX has no mutation_scores bundle (added in 1.9); "
                                "use saprot heatmap and saprot mutations instead of mutationscores")
