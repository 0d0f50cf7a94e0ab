"""Masked amino-acid accuracy and perplexity, computed the way a scan reads the model.

A site is masked as SaProt scores it (``"#" + its 3Di letter``), P(aa) is the sum of the 21 tokens that
carry that amino acid, renormalised over the 20 amino acids; accuracy is the argmax, perplexity
exp(mean -log P(true aa)). To keep it cheap, a fixed seeded 15% of the residues of each chain are masked
together in one pass (as in training) instead of one pass per site.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from saprot_scan import PAD_ID, STRUCT_LETTERS, VOCAB_SIZE

from .baselines import FrequencyBaselines
from .data import Domain, is_scored_residue
from .masking import hide_amino_acids, hide_structure

#: logits(ids (B, T) int64, attention_mask (B, T) int64) -> (B, T, 446) float
LogitsFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
EVAL_FRACTION = 0.15
MAX_RESIDUES = 1022  # the model's positional range; longer chains are cut (first 1022 residues)


@dataclass(frozen=True)
class MaskedSites:
    """Which residues of each chain are evaluated, and their true amino acids."""

    ids: list[np.ndarray]  # per chain: <cls> + residues + <eos> (cut to MAX_RESIDUES)
    sites: list[np.ndarray]  # per chain: token positions evaluated
    truth: np.ndarray  # (n,) amino-acid index 0..19 of every evaluated site, in chain order


def choose_sites(domains: list[Domain], seed: int = 1234, fraction: float = EVAL_FRACTION) -> MaskedSites:
    """A fixed, seeded sample of sites: ``fraction`` of each chain's residues (at least one)."""
    rng = np.random.default_rng(seed)
    all_ids, all_sites, truth = [], [], []
    for d in domains:
        ids = d.token_ids()
        if ids.size > MAX_RESIDUES + 2:
            ids = np.concatenate([ids[:MAX_RESIDUES + 1], ids[-1:]])
        candidates = np.flatnonzero(is_scored_residue(ids))
        if candidates.size == 0:
            continue
        n = max(1, int(round(candidates.size * fraction)))
        sites = np.sort(rng.choice(candidates, size=n, replace=False))
        all_ids.append(ids)
        all_sites.append(sites)
        truth.append((ids[sites] - 5) // len(STRUCT_LETTERS))
    return MaskedSites(all_ids, all_sites, np.concatenate(truth))


def aa_probabilities(logits: np.ndarray) -> np.ndarray:
    """(n, 446) logits -> (n, 20) P(aa): softmax, sum the 21 tokens of each amino acid, renormalise."""
    logits = np.asarray(logits, dtype=np.float64)
    logits = logits - logits.max(-1, keepdims=True)
    probs = np.exp(logits)
    per_aa = probs[:, 5:VOCAB_SIZE].reshape(-1, 21, len(STRUCT_LETTERS)).sum(-1)[:, :20]
    return per_aa / per_aa.sum(-1, keepdims=True)


def model_probabilities(logits_fn: LogitsFn, masked: MaskedSites, no_structure: bool = False,
                        batch_tokens: int = 8192) -> np.ndarray:
    """(n, 20) P(aa) at every chosen site, all sites of a chain hidden in one pass; chains batched by length."""
    order = np.argsort([ids.size for ids in masked.ids], kind="stable")
    out: list[np.ndarray | None] = [None] * len(masked.ids)
    start = 0
    while start < len(order):
        longest = masked.ids[order[start]].size
        stop = start
        while stop < len(order) and (stop - start + 1) * max(longest, masked.ids[order[stop]].size) <= batch_tokens:
            longest = max(longest, masked.ids[order[stop]].size)
            stop += 1
        stop = max(stop, start + 1)
        chunk = order[start:stop]
        width = max(masked.ids[i].size for i in chunk)
        batch = np.full((len(chunk), width), PAD_ID, dtype=np.int64)
        attention = np.zeros_like(batch)
        for row, i in enumerate(chunk):
            ids = masked.ids[i].copy()
            if no_structure:
                ids = hide_structure(ids)
            ids[masked.sites[i]] = hide_amino_acids(ids[masked.sites[i]])
            batch[row, :ids.size] = ids
            attention[row, :ids.size] = 1
        logits = logits_fn(batch, attention)
        for row, i in enumerate(chunk):
            out[i] = aa_probabilities(logits[row, masked.sites[i]])
        start = stop
    return np.concatenate(out)


def score(probs: np.ndarray, truth: np.ndarray) -> dict:
    """Accuracy (argmax over 20) and perplexity of P(aa) at the true amino acids."""
    p_true = np.clip(probs[np.arange(truth.size), truth], 1e-12, None)
    return {
        "accuracy": round(float((probs.argmax(-1) == truth).mean()), 4),
        "perplexity": round(float(np.exp(-np.log(p_true).mean())), 3),
        "sites": int(truth.size),
    }


def baseline_scores(baselines: FrequencyBaselines, masked: MaskedSites) -> dict:
    """Both count baselines on the same sites."""
    site_ids = np.concatenate([ids[s] for ids, s in zip(masked.ids, masked.sites)])
    return {
        "aa_frequency": score(baselines.probabilities(site_ids, conditioned=False), masked.truth),
        "aa_given_3di_frequency": score(baselines.probabilities(site_ids, conditioned=True), masked.truth),
    }


def evaluate(logits_fn: LogitsFn, baselines: FrequencyBaselines, masked: MaskedSites) -> dict:
    """Model (with and without structure letters) and both baselines on one set of sites."""
    result = baseline_scores(baselines, masked)
    result["model"] = score(model_probabilities(logits_fn, masked), masked.truth)
    result["model_no_structure"] = score(model_probabilities(logits_fn, masked, no_structure=True), masked.truth)
    return result
