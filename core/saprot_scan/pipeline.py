"""The whole job for one chain: tokens (3Di + pLDDT rule), scorer, cached scan -> ScanResult; and listed variants."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from saprot_scan import cache
from saprot_scan.backends.base import ProgressFn, Scorer, load_scorer
from saprot_scan.encoding.plddt import DEFAULT_PLDDT_THRESHOLD, chain_tokens
from saprot_scan.encoding.structure import Chain
from saprot_scan.encoding.tokens import StructureTokens
from saprot_scan.errors import InputError
from saprot_scan.results import LOG_RATIO_LABEL, ScanResult
from saprot_scan.scoring.marginals import METHODS, plan_windows
from saprot_scan.scoring.variants import parse_variant


def as_scorer(model: Scorer | str | os.PathLike | None, device: str = "auto") -> Scorer:
    """``model`` itself when it is already a scorer, else ``load_scorer(model)``."""
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_scorer(model, device=device)
    return model


def scan_chain(chain: Chain, model: Scorer | str | None = None, method: str = "masked",
               plddt_mask: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
               device: str = "auto", batch_size: int | None = None,
               progress: ProgressFn | None = None, cancel=None,
               use_cache: bool = True, backend: str = "auto") -> ScanResult:
    """Score all 19 substitutions at every residue of ``chain``."""
    if method not in METHODS:
        raise InputError(f"method must be masked or wt, not {method!r}")
    scorer = as_scorer(model, device)
    tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    use_cache = use_cache and getattr(scorer, "cacheable", True)  # scorers reading coordinates opt out
    key = cache.cache_key(tokens.combined, scorer.cache_identity(), method)
    scores = cache.load_scores(key) if use_cache else None
    notes = []
    if scores is not None and scores.shape == (len(chain), 20):
        notes.append("scores read from the result cache")
        if progress is not None:
            progress(len(chain), len(chain))
    else:
        scores = scorer.scan(chain, tokens, method, batch_size=batch_size, progress=progress, cancel=cancel)
        if use_cache:
            cache.store_scores(key, scores)
    return ScanResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids, wt=chain.sequence, scores=scores,
                      method=method, model_name=scorer.name, model_sha256=scorer.sha256, struct=tokens.struct,
                      plddt_mask_applied=tokens.plddt_masked, plddt_masked_count=tokens.masked_count,
                      windows=len(plan_windows(len(chain))) if _reads_windows(scorer) else 1,
                      source=chain.source, notes=notes, score_label=getattr(scorer, "score_label", LOG_RATIO_LABEL))


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
