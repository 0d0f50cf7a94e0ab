"""SaProt's zero-shot scores from token ids and a model: masked marginal, wild-type marginal, variants.

SaProt's rule (shared/docs/saprot-reference.md): a site is masked by hiding its amino acid and keeping
its 3Di letter ("#" + letter, no <mask> token); P(aa) sums the softmax over the 21 tokens carrying aa;
score = sum over sites of log P(mt) - log P(wt). Chains longer than the model's 1022 residues are
scored in overlapping windows, each position taken from the window where it sits most central.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from .errors import InputError, ModelError, ScanCancelled
from .tokens import AMINO_ACIDS, VOCAB_SIZE, token_id

MAX_RESIDUES = 1022  # 1024 tokens in pretraining, minus <cls> and <eos>
ProgressFn = Callable[[int, int], None]


class _Model(Protocol):
    """The part of runtime.LoadedModel a scan needs (benchmarks pass other back ends)."""

    def logits(self, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray: ...

    def default_batch_size(self, length: int) -> int: ...


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


def _wt_columns(aa: str) -> np.ndarray:
    """Column of each residue's wild type in AMINO_ACIDS, -1 for unknown residues (X)."""
    return np.array([AMINO_ACIDS.find(a) for a in aa], dtype=int)


def _to_scores(log_probs: np.ndarray, wt_cols: np.ndarray) -> np.ndarray:
    """log P(mt) - log P(wt) per position; rows of unknown wild types are NaN."""
    scores = np.full(log_probs.shape, np.nan)
    known = wt_cols >= 0
    scores[known] = log_probs[known] - log_probs[known, wt_cols[known]][:, None]
    scores[known, wt_cols[known]] = 0.0
    return scores


def _window_ids(ids: np.ndarray, window: Window) -> np.ndarray:
    """<cls> + residues of the window + <eos>."""
    return np.concatenate([ids[:1], ids[1 + window.start:1 + window.stop], ids[-1:]])


def _masked_token(aa_struct: str) -> int:
    """SaProt's masked token for a residue: amino acid hidden, 3Di letter kept."""
    return token_id("#", aa_struct)


def _logits(model: _Model, ids: np.ndarray, mask: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
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


def check_model_runs(model: _Model) -> None:
    """Run the model once on a 3-token batch of two, so a model that loads but does not work as SaProt
    fails in one clear line before any progress is shown."""
    ids = np.array([[0, token_id("A", "p"), 2]] * 2, dtype=np.int64)
    _logits(model, ids, np.ones_like(ids))


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise ScanCancelled("scan cancelled")


def masked_marginal(model: _Model, ids: np.ndarray, struct: str, aa: str, batch_size: int | None = None,
                    progress: ProgressFn | None = None, cancel=None, window_size: int = MAX_RESIDUES) -> np.ndarray:
    """(L, 20) masked-marginal scores: one pass per position, ``batch_size`` positions per run."""
    length = len(aa)
    log_probs = np.full((length, 20), np.nan)
    done = 0
    for window in plan_windows(length, window_size):
        base = _window_ids(ids, window)
        positions = list(range(window.own_start, window.own_stop))
        n_tok = len(base)
        size = batch_size or model.default_batch_size(n_tok)
        mask = np.ones((size, n_tok), dtype=np.int64)
        for chunk_start in range(0, len(positions), size):
            _check_cancel(cancel)
            chunk = positions[chunk_start:chunk_start + size]
            batch = np.repeat(base[None, :], len(chunk), axis=0)
            local = np.array(chunk) - window.start + 1
            batch[np.arange(len(chunk)), local] = [_masked_token(struct[p]) for p in chunk]
            logits = _logits(model, batch, mask[:len(chunk)], local[:, None].astype(np.int64))
            log_probs[chunk] = aa_log_probs(logits[:, 0])
            done += len(chunk)
            if progress is not None:
                progress(done, length)
    return _to_scores(log_probs, _wt_columns(aa))


def wt_marginal(model: _Model, ids: np.ndarray, aa: str, progress: ProgressFn | None = None, cancel=None,
                window_size: int = MAX_RESIDUES) -> np.ndarray:
    """(L, 20) wild-type-marginal scores: one unmasked pass per window."""
    length = len(aa)
    log_probs = np.full((length, 20), np.nan)
    windows = plan_windows(length, window_size)
    for window in windows:
        _check_cancel(cancel)
        base = _window_ids(ids, window)[None, :]
        logits = _logits(model, base, np.ones_like(base))[0]
        own = slice(window.own_start - window.start + 1, window.own_stop - window.start + 1)
        log_probs[window.own_start:window.own_stop] = aa_log_probs(logits[own])
        if progress is not None:
            progress(window.own_stop, length)
    return _to_scores(log_probs, _wt_columns(aa))


@dataclass(frozen=True)
class Substitution:
    """One site of a variant: 0-based index in the chain, wild type and mutant letters."""

    index: int
    wt: str
    mt: str


def parse_variant(text: str, aa: str) -> list[Substitution]:
    """Parse ``A23G`` or ``A23G:L45P`` (1-based positions in the scored sequence, ProteinGym style)."""
    sites = []
    for part in filter(None, (p.strip() for p in text.replace(",", ":").split(":"))):
        wt, mt, number = part[0].upper(), part[-1].upper(), part[1:-1]
        if not number.isdigit() or wt not in AMINO_ACIDS or mt not in AMINO_ACIDS:
            raise InputError(f"bad mutation {part!r}: expected e.g. A23G (wild type, position, mutant)")
        index = int(number) - 1
        if not 0 <= index < len(aa):
            raise InputError(f"mutation {part}: position {number} is outside the chain (1..{len(aa)})")
        if aa[index] != wt:
            raise InputError(f"mutation {part}: residue {number} is {aa[index]}, not {wt}")
        sites.append(Substitution(index, wt, mt))
    if not sites:
        raise InputError(f"empty mutation {text!r}")
    if len({s.index for s in sites}) != len(sites):
        raise InputError(f"mutation {text}: a position is mutated twice")
    return sites


def _window_for(sites: Sequence[Substitution], length: int, window_size: int) -> Window:
    windows = plan_windows(length, window_size)
    lo, hi = min(s.index for s in sites), max(s.index for s in sites)
    fitting = [w for w in windows if w.start <= lo and hi < w.stop]
    if not fitting:
        raise InputError(f"sites {lo + 1} and {hi + 1} are more than {window_size} residues apart; "
                         "SaProt cannot see them in one pass")
    centre = (lo + hi) / 2
    return min(fitting, key=lambda w: abs((w.start + w.stop) / 2 - centre))


def score_variants(model: _Model, ids: np.ndarray, struct: str, aa: str, variants: Iterable[Sequence[Substitution]],
                   batch_size: int | None = None, window_size: int = MAX_RESIDUES) -> np.ndarray:
    """One score per variant; all sites of a multi-mutant are masked in the same pass (SaProt's rule)."""
    variants = list(variants)
    scores = np.zeros(len(variants))
    groups: dict[Window, list[int]] = {}
    for k, sites in enumerate(variants):
        groups.setdefault(_window_for(sites, len(aa), window_size), []).append(k)
    for window, members in groups.items():
        base = _window_ids(ids, window)
        size = batch_size or model.default_batch_size(len(base))
        for chunk_start in range(0, len(members), size):
            chunk = members[chunk_start:chunk_start + size]
            batch = np.repeat(base[None, :], len(chunk), axis=0)
            for row, k in enumerate(chunk):
                for site in variants[k]:
                    batch[row, site.index - window.start + 1] = _masked_token(struct[site.index])
            sites = [[site.index - window.start + 1 for site in variants[k]] for k in chunk]
            width = max(len(row) for row in sites)
            rows = np.array([row + row[:1] * (width - len(row)) for row in sites], dtype=np.int64)
            logits = _logits(model, batch, np.ones_like(batch), rows)
            for row, k in enumerate(chunk):
                total = 0.0
                for column, site in enumerate(variants[k]):
                    lp = aa_log_probs(logits[row, column])
                    total += lp[AMINO_ACIDS.index(site.mt)] - lp[AMINO_ACIDS.index(site.wt)]
                scores[k] = total
    return scores

