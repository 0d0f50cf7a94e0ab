"""The whole job for one chain: tokens (3Di + pLDDT rule), scorer, cached scan -> ScanResult; and listed variants.

Also the same job in the user's terms: a scan of selected residues only (``scan_residues``) and variants
already resolved through a numbering (``score_resolved``, ``conventions.numbering``).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

import numpy as np

from saprot_scan import cache
from saprot_scan.backends.base import ProgressFn, Scorer, load_scorer, scorer_methods
from saprot_scan.encoding.plddt import DEFAULT_PLDDT_THRESHOLD, chain_tokens
from saprot_scan.encoding.structure import Chain
from saprot_scan.encoding.tokens import StructureTokens
from saprot_scan.errors import InputError
from saprot_scan.results import ScanResult
from saprot_scan.scoring.marginals import METHODS, plan_windows
from saprot_scan.scoring.meaning import meaning_of
from saprot_scan.scoring.variants import parse_variant

if TYPE_CHECKING:
    from saprot_scan.conventions.numbering import ResolvedVariant
    from saprot_scan.progressive import PlanFn, ViewFn


def as_scorer(model: Scorer | str | os.PathLike | None, device: str = "auto") -> Scorer:
    """``model`` itself when it is already a scorer, else ``load_scorer(model)``."""
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_scorer(model, device=device)
    return model


def check_method(scorer, method: str) -> None:
    """``method`` is one the scorer honours, or one clear InputError (never a method silently ignored)."""
    if method not in METHODS:
        raise InputError(f"method must be masked or wt, not {method!r}")
    if method not in scorer_methods(scorer):
        raise InputError(f"--method {method} needs a language model; {scorer.name} has only "
                         f"{' and '.join(scorer_methods(scorer))} (leave --method out)")


def scan_chain(chain: Chain, model: Scorer | str | None = None, method: str = "masked",
               plddt_mask: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
               device: str = "auto", batch_size: int | None = None,
               progress: ProgressFn | None = None, cancel=None,
               use_cache: bool = True, backend: str = "auto", on_view: "ViewFn | None" = None,
               on_plan: "PlanFn | None" = None) -> ScanResult:
    """Score all 19 substitutions at every residue of ``chain``.

    A language model's masked scan resumes from the rows a stopped scan of the chain left in the cache, and
    a stop keeps its finished rows (``ScanCancelled.partial``; ``progressive``). ``on_view`` receives the
    one-pass preview and then each refinement (viewers colour with them); ``on_plan`` the work about to be
    done, before the first pass (the time estimate).
    """
    from saprot_scan.progressive import ScanPlan, resumable_masked

    scorer = as_scorer(model, device)
    check_method(scorer, method)
    tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    use_cache = use_cache and getattr(scorer, "cacheable", True)  # scorers reading coordinates opt out
    key = cache.cache_key(tokens.combined, scorer.cache_identity(), method)
    scores = cache.load_scores(key) if use_cache else None
    notes = []
    if scores is not None and scores.shape == (len(chain), 20):
        notes.append("scores read from the result cache")
        if on_plan is not None:
            on_plan(ScanPlan(len(chain), method, 0, 0, True))
        if progress is not None:
            progress(len(chain), len(chain))
    elif method == "masked" and _per_residue(scorer):
        scores, notes = resumable_masked(
            scorer, tokens, key, use_cache, lambda s, n: _result(chain, scorer, tokens, method, s, n),
            batch_size=batch_size, progress=progress, cancel=cancel, on_view=on_view, on_plan=on_plan)
        if use_cache:
            cache.store_scores(key, scores)
            cache.drop_partial(key)
    else:
        if on_plan is not None:
            on_plan(ScanPlan(len(chain), method, 0, 0, False))
        scores = scorer.scan(chain, tokens, method, batch_size=batch_size, progress=progress, cancel=cancel)
        if use_cache:
            cache.store_scores(key, scores)
    return _result(chain, scorer, tokens, method, scores, notes)


def _per_residue(scorer) -> bool:
    """A language model whose masked marginal the scoring maths runs row by row (not an ensemble, not a
    structure scorer)."""
    return getattr(scorer, "kind", "") == "language-model" and hasattr(scorer, "logits")


def _result(chain: Chain, scorer: Scorer, tokens: StructureTokens, method: str, scores: np.ndarray,
            notes: list[str]) -> ScanResult:
    return ScanResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids, wt=chain.sequence, scores=scores,
                      method=method, model_name=scorer.name, model_sha256=scorer.sha256, struct=tokens.struct,
                      plddt_mask_applied=tokens.plddt_masked, plddt_masked_count=tokens.masked_count,
                      windows=len(plan_windows(len(chain))) if _reads_windows(scorer) else 1,
                      source=chain.source, notes=list(chain.notes) + notes, meaning=meaning_of(scorer),
                      **interface_fields(chain, scorer))


def interface_fields(chain: Chain, scorer) -> dict:
    """A result's interface marks and whether its scorer saw the partner chains (structure scorers only:
    SaProt reads one chain whatever the switch)."""
    marks = getattr(chain, "interface", None)
    if marks is None:
        return {}
    kinds = {getattr(part, "kind", "") for part in [scorer, *getattr(scorer, "parts", [])]}
    seen = getattr(chain, "partners", None) is not None and "structure" in kinds
    return {"interface": tuple(bool(m) for m in marks), "partner_context": "on" if seen else "off"}


def scan_residues(chain: Chain, indices: Sequence[int], model: Scorer | str | None = None, method: str = "masked",
                  plddt_mask: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
                  device: str = "auto", batch_size: int | None = None, progress: ProgressFn | None = None,
                  cancel=None, use_cache: bool = True, backend: str = "auto") -> ScanResult:
    """Scores of the 19 substitutions at the chain ``indices`` (0-based) only; the whole chain is the context,
    so the rows equal those of a whole scan (``ScanResult.positions`` keeps their chain positions).

    A language model's masked marginal runs one pass per selected residue. A whole-chain result already in the
    cache, the one-pass wt marginal and the other scorer kinds (the structure scorer and ensembles standardise
    over the whole chain) are computed whole and cut down.
    """
    indices = sorted({int(i) for i in indices})
    if any(not 0 <= i < len(chain) for i in indices):
        raise InputError(f"residue indices must lie in 0..{len(chain) - 1} for chain {chain.chain_id}")
    scorer = as_scorer(model, device)
    check_method(scorer, method)
    if method != "masked" or len(indices) == len(chain) or not _per_residue(scorer):
        whole = scan_chain(chain, scorer, method=method, plddt_mask=plddt_mask, plddt_threshold=plddt_threshold,
                           batch_size=batch_size, progress=progress, cancel=cancel, use_cache=use_cache,
                           backend=backend)
        return whole.subset(indices)
    from saprot_scan.scoring.marginals import masked_marginal

    tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    key = cache.cache_key(tokens.combined, scorer.cache_identity(), method)
    cached = cache.load_scores(key) if use_cache and getattr(scorer, "cacheable", True) else None
    notes = []
    if cached is not None and cached.shape == (len(chain), 20):
        scores = cached
        notes.append("scores read from the result cache")
        if progress is not None:
            progress(len(indices), len(indices))
    else:  # a part of the chain is not stored: the cache holds whole chains only
        scores = masked_marginal(scorer, tokens.ids(), tokens.struct, tokens.aa, batch_size, progress, cancel,
                                 positions=indices)
        notes.append("percentiles rank among the selected residues' substitutions only (the rest of the chain "
                     "was not scored)")
    return _result(chain, scorer, tokens, method, scores, notes).subset(indices)


def score_resolved(chain: Chain, variants: Sequence["ResolvedVariant"], model: Scorer | str | None = None,
                   tokens: StructureTokens | None = None, plddt_mask: str = "auto",
                   plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD, device: str = "auto",
                   batch_size: int | None = None, backend: str = "auto") -> np.ndarray:
    """One score per variant resolved through a numbering (``conventions.numbering.Numbering.resolve``), from any
    scorer kind; a variant made only of synonymous sites scores exactly 0 without a pass."""
    scorer = as_scorer(model, device)
    if tokens is None:
        tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    scores = np.zeros(len(variants))
    todo = [k for k, v in enumerate(variants) if v.sites]
    if todo:
        scores[todo] = scorer.score_variants(chain, tokens, [list(variants[k].sites) for k in todo],
                                             batch_size=batch_size)
    return scores


def _reads_windows(scorer) -> bool:
    """Whether a language model (alone or in an ensemble) saw the chain in 1,022-residue windows."""
    parts = getattr(scorer, "parts", [scorer])
    return any(getattr(p, "kind", "") not in ("structure",) for p in parts)


def score_mutations(chain: Chain, variants: Sequence[str], model: Scorer | str | None = None,
                    plddt_mask: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
                    device: str = "auto", batch_size: int | None = None, backend: str = "auto",
                    tokens: StructureTokens | None = None) -> np.ndarray:
    """One masked-marginal score per variant string (``A23G`` or ``A23G:L45P``).

    ``tokens`` (from ``chain_tokens``) saves encoding the chain again when the caller already has them.
    """
    scorer = as_scorer(model, device)
    if tokens is None:
        tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    parsed = [parse_variant(v, tokens.aa) for v in variants]
    return scorer.score_variants(chain, tokens, parsed, batch_size=batch_size)
