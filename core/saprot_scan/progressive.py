"""A language model's masked scan that shows something early and survives a stop.

SaProt's masked marginal costs one pass per residue, so on a CPU a chain takes minutes. Here the one-pass
wild-type marginal comes first (a preview, seconds), then every run's finished rows replace the preview's
as they arrive (``on_view``), so a viewer's colours refine while the scan runs. A stop (cancel or Ctrl-C)
keeps the finished rows in the result cache (``cache.store_partial``) and hands them back as a partial
``ScanResult`` on the exception; the next scan of the same chain computes only the rows still missing.
Rows are computed exactly as in an uninterrupted scan (each row's pass is its own), so the final scores
are today's.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from saprot_scan import cache
from saprot_scan.errors import ScanCancelled
from saprot_scan.results import ScanResult
from saprot_scan.scoring.logits import ProgressFn

#: What a viewer is shown while a masked scan runs (``ScanView``).
PREVIEW, REFINING = "preview", "refining"


@dataclass(frozen=True)
class ScanPlan:
    """The work a scan of one chain is about to do, known before its first pass (for the time estimate)."""

    length: int
    method: str
    rows: int        # masked passes still to run (0 for the wt marginal)
    reused: int      # rows a stopped scan of the same chain left in the cache
    cached: bool     # the whole result is in the cache: no pass at all


@dataclass(frozen=True)
class ScanView:
    """The colouring to show now: ``result`` holds the masked scores of the ``done`` rows and the one-pass
    wild-type preview's elsewhere (``stage`` PREVIEW before the first masked row, then REFINING)."""

    stage: str
    result: ScanResult
    done: np.ndarray  # (L,) bool: rows whose masked marginal is final

    @property
    def label(self) -> str:
        """How a viewer labels these colours."""
        count, total = int(self.done.sum()), len(self.done)
        if self.stage == PREVIEW and not count:
            return "preview (one-pass wild-type marginal; the masked scan is running)"
        return f"refining: {count} of {total} residues masked-marginal, the rest still the wild-type preview"


ViewFn = Callable[[ScanView], None]
PlanFn = Callable[[ScanPlan], None]


def resumable_masked(scorer, tokens, key: str, use_cache: bool, make_result: Callable[..., ScanResult],
                     batch_size: int | None = None, progress: ProgressFn | None = None, cancel=None,
                     on_view: ViewFn | None = None, on_plan: PlanFn | None = None) -> tuple[np.ndarray, list[str]]:
    """(L, 20) masked-marginal scores of a chain and notes, resumed from a stopped scan's rows when the cache
    has them. ``make_result(scores, notes)`` builds the chain's ScanResult (for views and the partial result).
    On a stop the finished rows are cached and raised with the ``ScanCancelled`` (``partial``); a Ctrl-C's
    KeyboardInterrupt carries them the same way."""
    from saprot_scan.scoring.marginals import masked_marginal, wt_marginal

    length = len(tokens.aa)
    scores, done = np.full((length, 20), np.nan), np.zeros(length, dtype=bool)
    stored = cache.load_partial(key, length) if use_cache else None
    if stored is not None:
        scores, done = stored
    reused = int(done.sum())
    notes = [f"{reused} of {length} residues reused from a stopped scan (result cache)"] if reused else []
    preview = None
    if on_view is not None:  # first, so the colours come before anything slower (a first calibration)
        preview = wt_marginal(scorer, tokens.ids(), tokens.aa, cancel=cancel)
        on_view(ScanView(PREVIEW, make_result(np.where(done[:, None], scores, preview), []), done.copy()))
    if on_plan is not None:
        on_plan(ScanPlan(length, "masked", length - reused, reused, False))

    def take(positions, rows) -> None:
        scores[positions] = rows
        done[positions] = True
        if on_view is not None:
            shown = np.where(done[:, None], scores, preview)
            on_view(ScanView(REFINING, make_result(shown, []), done.copy()))

    def report(count: int, _total: int) -> None:
        if progress is not None:
            progress(reused + count, length)

    todo = [int(i) for i in np.flatnonzero(~done)]
    try:
        if todo:
            masked_marginal(scorer, tokens.ids(), tokens.struct, tokens.aa, batch_size, report, cancel,
                            positions=todo, on_rows=take)
    except (ScanCancelled, KeyboardInterrupt) as err:
        if done.any():
            if use_cache:
                cache.store_partial(key, scores, done)
            partial = make_result(np.where(done[:, None], scores, np.nan), notes)
            err.partial = replace(partial, scanned=tuple(bool(flag) for flag in done))
        raise
    if progress is not None and not todo:
        progress(length, length)
    return scores, notes
