"""SaProt's zero-shot scores from token ids and a model: masked marginal and wild-type marginal.

SaProt's rule (shared/docs/saprot-reference.md): a site is masked by hiding its amino acid and keeping
its 3Di letter ("#" + letter, no <mask> token); P(aa) sums the softmax over the 21 tokens carrying aa;
score = sum over sites of log P(mt) - log P(wt). Chains longer than the model's 1022 residues are
scored in overlapping windows, each position taken from the window where it sits most central.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from saprot_scan.scoring.logits import LogitsModel, ProgressFn
from saprot_scan.encoding.tokens import AMINO_ACIDS, MAX_RESIDUES, VOCAB_SIZE, token_id
from saprot_scan.errors import InputError, ModelError, ScanCancelled

#: Scan methods: SaProt's masked marginal (one pass per position) and the one-pass wild-type marginal.
METHODS = ("masked", "wt")

#: ``on_rows(positions, scores)``: finished rows of a masked scan, (len(positions), 20) scores.
RowsFn = Callable[[list, np.ndarray], None]


def aa_log_probs(logits: np.ndarray) -> np.ndarray:
    """log P(aa) for the 20 amino acids from 446-way logits (last axis), summing each aa's 21 tokens."""
    logits = np.asarray(logits, dtype=np.float64)
    top = logits.max(axis=-1, keepdims=True)
    shifted = np.exp(logits - top)
    total = shifted.sum(axis=-1)
    grouped = shifted[..., 5:5 + 21 * 20].reshape(*logits.shape[:-1], 20, 21).sum(axis=-1)
    with np.errstate(divide="ignore"):
        return np.log(grouped) - np.log(total)[..., None]


@dataclass(frozen=True)
class Window:
    """Residues [start, stop) scored together; positions in [own_start, own_stop) take their scores from it."""

    start: int
    stop: int
    own_start: int
    own_stop: int


def plan_windows(length: int, size: int = MAX_RESIDUES) -> list[Window]:
    """Overlapping windows (half-window stride); each residue is owned by the window where it is most central."""
    if length <= size:
        return [Window(0, length, 0, length)]
    stride = size // 2
    starts = list(range(0, length - size, stride)) + [length - size]
    starts = sorted(set(starts))
    windows = []
    for k, start in enumerate(starts):
        stop = start + size
        # Boundaries halfway between neighbouring window centres give every residue its most central window.
        own_start = 0 if k == 0 else (starts[k - 1] + size // 2 + start + size // 2) // 2
        own_stop = length if k == len(starts) - 1 else (start + size // 2 + starts[k + 1] + size // 2) // 2
        windows.append(Window(start, stop, own_start, own_stop))
    return windows


def window_for_sites(sites: Sequence[int], length: int, size: int = MAX_RESIDUES) -> Window:
    """The one window rule scan and score share: a set of sites (0-based) is read from the planned window that
    owns them all in a scan (so ``score C587A`` equals the scan's C587A); sites owned by different windows from
    the planned window holding them all whose centre is nearest theirs; sites no planned window holds from a
    window of ``size`` centred on them. Only sites ``size`` or more residues apart are refused."""
    windows = plan_windows(length, size)
    lo, hi = min(sites), max(sites)
    owners = {k for k, w in enumerate(windows) for s in (lo, hi) if w.own_start <= s < w.own_stop}
    if len(owners) == 1:  # own ranges are contiguous and inside their windows: every site in between is owned too
        return windows[owners.pop()]
    inside = [w for w in windows if w.start <= lo and hi < w.stop]
    centre = (lo + hi) / 2
    if inside:
        return min(inside, key=lambda w: abs((w.start + w.stop) / 2 - centre))
    if hi - lo >= size:
        raise InputError(f"sites {lo + 1} and {hi + 1} are {hi - lo} residues apart, more than a {size}-residue "
                         "window holds; SaProt cannot see them in one pass")
    start = min(max(0, lo - (size - 1 - (hi - lo)) // 2), length - size)  # the spare room shared both sides
    return Window(start, start + size, start, start + size)


def wt_columns(aa: str) -> np.ndarray:
    """Column of each residue's wild type in AMINO_ACIDS, -1 for unknown residues (X)."""
    return np.array([AMINO_ACIDS.find(a) for a in aa], dtype=int)


def to_scores(log_probs: np.ndarray, wt_cols: np.ndarray) -> np.ndarray:
    """log P(mt) - log P(wt) per position; rows of unknown wild types are NaN."""
    scores = np.full(log_probs.shape, np.nan)
    known = wt_cols >= 0
    scores[known] = log_probs[known] - log_probs[known, wt_cols[known]][:, None]
    scores[known, wt_cols[known]] = 0.0
    return scores


def window_ids(ids: np.ndarray, window: Window) -> np.ndarray:
    """<cls> + residues of the window + <eos>."""
    return np.concatenate([ids[:1], ids[1 + window.start:1 + window.stop], ids[-1:]])


def masked_token(aa_struct: str) -> int:
    """SaProt's masked token for a residue: amino acid hidden, 3Di letter kept."""
    return token_id("#", aa_struct)


def masked_batch(base: np.ndarray, struct: str, sites: Sequence[Sequence[int]], window: Window
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One window's ids repeated once per row, each row's ``sites`` (0-based chain indices) masked SaProt's
    way; returns (ids (B, T), query rows (B, R)). Rows with fewer sites repeat their first site, so every
    row asks for R logits; callers read only the first len(sites[row]) of them."""
    batch = np.repeat(base[None, :], len(sites), axis=0)
    local = [[index - window.start + 1 for index in row] for row in sites]
    for row, (indices, columns) in enumerate(zip(sites, local)):
        batch[row, columns] = [masked_token(struct[index]) for index in indices]
    width = max(len(row) for row in local)
    rows = np.array([row + row[:1] * (width - len(row)) for row in local], dtype=np.int64)
    return batch, rows


def checked_logits(model: LogitsModel, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """The model's logits at ``rows`` (all rows when None), checked: a model that loads but is not
    SaProt-shaped fails in one clear line."""
    try:
        logits = model.logits(ids, mask, rows)
    except Exception as err:
        if not type(err).__module__.startswith("onnxruntime"):
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        memory = "alloc" in first.lower() or "memory" in first.lower()
        hint = "try a smaller --batch-size" if memory else "is it a SaProt ONNX export?"
        raise ModelError(f"the model failed to run ({first[:200]}); {hint}") from None
    expected = (*(ids.shape if rows is None else rows.shape), VOCAB_SIZE)
    if np.shape(logits) != expected:
        raise ModelError(f"the model returned logits of shape {tuple(np.shape(logits))}, expected {expected}; "
                         "is it a SaProt ONNX export?")
    return logits


def check_model_runs(model: LogitsModel) -> None:
    """Run the model once on a 3-token batch of two, so a model that loads but does not work as SaProt
    fails in one clear line before any progress is shown."""
    ids = np.array([[0, token_id("A", "p"), 2]] * 2, dtype=np.int64)
    checked_logits(model, ids, np.ones_like(ids))


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise ScanCancelled("scan cancelled")


def masked_marginal(model: LogitsModel, ids: np.ndarray, struct: str, aa: str, batch_size: int | None = None,
                    progress: ProgressFn | None = None, cancel=None, window_size: int = MAX_RESIDUES,
                    positions: Sequence[int] | None = None, on_rows: RowsFn | None = None) -> np.ndarray:
    """(L, 20) masked-marginal scores: one pass per position, ``batch_size`` positions per run.

    ``positions`` (0-based) limits the passes to those residues (the whole chain is still the context);
    rows of the others are NaN. ``on_rows(positions, scores)`` receives each run's finished rows as soon as
    they exist (a viewer refines its colours with them; a stopped scan keeps them).
    """
    wt_cols = wt_columns(aa)
    length = len(aa)
    log_probs = np.full((length, 20), np.nan)
    wanted = None if positions is None else {int(p) for p in positions}
    total = length if wanted is None else len(wanted)
    done = 0
    for window in plan_windows(length, window_size):
        base = window_ids(ids, window)
        todo = [p for p in range(window.own_start, window.own_stop) if wanted is None or p in wanted]
        n_tok = len(base)
        size = batch_size or model.default_batch_size(n_tok)
        mask = np.ones((size, n_tok), dtype=np.int64)
        for chunk_start in range(0, len(todo), size):
            _check_cancel(cancel)
            chunk = todo[chunk_start:chunk_start + size]
            batch, rows = masked_batch(base, struct, [[p] for p in chunk], window)
            logits = checked_logits(model, batch, mask[:len(chunk)], rows)
            log_probs[chunk] = aa_log_probs(logits[:, 0])
            if on_rows is not None:
                on_rows(chunk, to_scores(log_probs[chunk], wt_cols[chunk]))
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return to_scores(log_probs, wt_cols)


def unmasked_log_probs(model: LogitsModel, ids: np.ndarray, length: int, progress: ProgressFn | None = None,
                       cancel=None, window_size: int = MAX_RESIDUES) -> np.ndarray:
    """(L, 20) log P(aa) read from one pass per window over ``ids`` as given (the wild-type marginal's
    pass; the design view's, with every amino acid already hidden in ``ids``)."""
    log_probs = np.full((length, 20), np.nan)
    for window in plan_windows(length, window_size):
        _check_cancel(cancel)
        base = window_ids(ids, window)[None, :]
        logits = checked_logits(model, base, np.ones_like(base))[0]
        own = slice(window.own_start - window.start + 1, window.own_stop - window.start + 1)
        log_probs[window.own_start:window.own_stop] = aa_log_probs(logits[own])
        if progress is not None:
            progress(window.own_stop, length)
    return log_probs


def wt_marginal(model: LogitsModel, ids: np.ndarray, aa: str, progress: ProgressFn | None = None, cancel=None,
                window_size: int = MAX_RESIDUES) -> np.ndarray:
    """(L, 20) wild-type-marginal scores: one unmasked pass per window."""
    log_probs = unmasked_log_probs(model, ids, len(aa), progress, cancel, window_size)
    return to_scores(log_probs, wt_columns(aa))
