"""The colours a SaProt masked scan shows before it finishes: the core's one-pass wild-type preview at once,
then its refinements as residues finish (``saprot_scan.progressive``), painted on the UI thread. The scene
before the first preview is remembered, so a scan stopped before any residue finished puts it back."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

#: Seconds between two refinements painted while a masked scan runs (the preview is always painted at once).
REFINE_INTERVAL_S = 1.0
#: Called as hook(session, label, view) on the UI thread after every view the core hands over, painted or not
#: (scripts can follow a scan, and stop it with ``saprot stop``).
VIEW_HOOKS: list[Callable] = []


class PreviewPainter:
    """Paints early colourings of the scan's chains (``targets``) by the scan's summary and palette."""

    def __init__(self, session, targets, kind: str, palette):
        self.session, self.targets, self.kind, self.palette = session, targets, kind, palette
        self.saved: dict = {}  # residue -> (ribbon colour, atom colours) before the first preview
        self.stage: str = ""   # the last view shown: "preview" or "refining" ("" before any)

    def viewer(self, index: int):
        """The core's on_view for the chain ``targets[index]`` (called on the scan's thread)."""
        from .jobs import on_ui
        last = [0.0]

        def on_view(view) -> None:
            now = time.monotonic()
            paint = view.stage == "preview" or now - last[0] >= REFINE_INTERVAL_S
            if paint:
                last[0] = now
            on_ui(self.session, self._show, index, view, paint)
        return on_view

    def _show(self, index: int, view, paint: bool) -> None:
        target = self.targets[index]
        if paint and not target.structure.deleted:
            from . import coloring
            from .store import ATTR_NAME, StoredScan, register_attribute
            register_attribute(self.session)
            self._remember(target)
            values = coloring.summary_values(StoredScan(target, view.result, ""), self.kind)
            colormap = coloring.centred_colormap(self.palette, values, self.kind)
            scored = coloring.attach_values(target, view.result.residue_ids, ATTR_NAME, values)
            coloring.paint(target.spec_residues, scored, colormap)
            self.stage = view.stage
            if view.stage == "preview":
                self.session.logger.info(f"SaProt scan {target.label}: {view.label}; colours refine as residues "
                                         "finish")
        for hook in list(VIEW_HOOKS):
            hook(self.session, target.label, view)

    def _remember(self, target) -> None:
        for residue in target.spec_residues:
            if residue not in self.saved and not residue.deleted:
                self.saved[residue] = (np.array(residue.ribbon_color), np.array(residue.atoms.colors))

    def revert(self, from_index: int = 0) -> int:
        """Put back the colours of the chains from ``targets[from_index]`` on (their scan kept nothing), and
        clear the preview's saprot_score there. Returns how many residues were put back."""
        count = 0
        for target in self.targets[from_index:]:
            for residue in target.spec_residues:
                if residue in self.saved and not residue.deleted:
                    ribbon, atoms = self.saved[residue]
                    residue.ribbon_color = ribbon
                    residue.atoms.colors = atoms
                    if getattr(residue, "saprot_score", None) is not None:
                        residue.saprot_score = None
                    count += 1
        return count
