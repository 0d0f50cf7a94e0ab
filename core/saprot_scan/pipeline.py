"""The whole job for one chain: 3Di, SaProt tokens (with pLDDT masking), model, scan, cached result."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Callable, Sequence

import numpy as np

from .errors import InputError
from .paths import results_dir
from .results import LOG_RATIO_LABEL, ScanResult
from .scan import MAX_RESIDUES, parse_variant, plan_windows
from .scorers import score_with, sites_with
from .structure import Chain
from .threedi import encode_3di
from .tokens import DEFAULT_PLDDT_THRESHOLD, StructureTokens, plddt_mask

PLDDT_MODES = ("auto", "on", "off")
METHODS = ("masked", "wt")
RESULT_FORMAT = 1


def looks_predicted(chain: Chain) -> bool:
    """A predicted model even without "alphafold" in the file: one B-factor per residue, all in 0..100,
    and not all equal (ColabFold, ESMFold and ProteinGym files store pLDDT this way)."""
    b = chain.b_factors
    return (chain.b_factor_constant_per_residue and len(b) > 1 and bool(np.all((b >= 0) & (b <= 100)))
            and float(b.max() - b.min()) > 0)


def plddt_values(chain: Chain) -> np.ndarray:
    """Per-residue pLDDT on SaProt's 0..100 scale. Predicted models that store it as a fraction (0..1, as
    some ESMFold outputs do) are scaled up, so the threshold of 70 means the same for them."""
    b = np.asarray(chain.b_factors, dtype=float)
    if not chain.alphafold_text and looks_predicted(chain) and float(b.max()) <= 1.0:
        return np.round(b * 100.0, 4)  # 0.70 stored in float32 must stay 70, not 69.99999
    return b


def masking_applies(chain: Chain, mode: str) -> bool:
    """SaProt's rule ("alphafold" in the file) extended to predicted models that lack the word, and
    kept off files that declare an experimental method (an X-ray or EM entry may cite AlphaFold)."""
    if mode not in PLDDT_MODES:
        raise InputError(f"--plddt-mask must be one of {', '.join(PLDDT_MODES)}, not {mode!r}")
    if mode == "on":
        return True
    if mode == "off":
        return False
    if chain.experimental:  # measured coordinates: B-factors are not pLDDT, even if the file cites AlphaFold
        return False
    return chain.alphafold_text or looks_predicted(chain)


def chain_tokens(chain: Chain, plddt_mode: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
                 backend: str = "auto") -> StructureTokens:
    """The structure-aware tokens SaProt sees for ``chain``."""
    di = encode_3di(chain, backend)
    if masking_applies(chain, plddt_mode):
        masked, count = plddt_mask(di, plddt_values(chain), plddt_threshold)
        return StructureTokens(chain.sequence, masked, True, count)
    return StructureTokens(chain.sequence, di, False, 0)


def _cache_key(tokens: StructureTokens, model, method: str, chain: Chain | None = None) -> str:
    extra = model.chain_key(chain) if chain is not None and hasattr(model, "chain_key") else ""
    text = json.dumps([RESULT_FORMAT, tokens.combined, model.sha256, model.precision, method, MAX_RESIDUES, extra])
    return hashlib.sha256(text.encode()).hexdigest()


def _load_cached(key: str) -> np.ndarray | None:
    path = results_dir() / f"{key}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def _store_cached(key: str, scores: np.ndarray) -> None:
    try:
        folder = results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.npy"
        np.save(tmp, scores, allow_pickle=False)
        os.replace(tmp, folder / f"{key}.npy")
    except OSError:
        pass  # a read-only cache only costs time


def _as_model(model, device: str):
    """A loaded scorer of any kind (ONNX model, structure scorer, ensemble), loading a name or path."""
    from .scorers import load_scorer

    if model is None or isinstance(model, (str, os.PathLike)):
        return load_scorer(model, device=device)
    return model


def scan_chain(chain: Chain, model=None, method: str = "masked",
               plddt_mask: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
               device: str = "auto", batch_size: int | None = None,
               progress: Callable[[int, int], None] | None = None, cancel=None,
               use_cache: bool = True, backend: str = "auto") -> ScanResult:
    """Score all 19 substitutions at every residue of ``chain``."""
    if method not in METHODS:
        raise InputError(f"method must be masked or wt, not {method!r}")
    loaded = _as_model(model, device)
    tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    key = _cache_key(tokens, loaded, method, chain)
    scores = _load_cached(key) if use_cache else None
    notes = []
    if scores is not None and scores.shape == (len(chain), 20):
        notes.append("scores read from the result cache")
        if progress is not None:
            progress(len(chain), len(chain))
    else:
        scores = score_with(loaded, chain, tokens, method, batch_size, progress, cancel)
        if use_cache:
            _store_cached(key, scores)
    return ScanResult(chain_id=chain.chain_id, residue_ids=chain.residue_ids, wt=chain.sequence, scores=scores,
                      method=method, model_name=loaded.name, model_sha256=loaded.sha256, struct=tokens.struct,
                      plddt_mask_applied=tokens.plddt_masked, plddt_masked_count=tokens.masked_count,
                      windows=len(plan_windows(len(chain))) if _is_language_model(loaded) else 1,
                      source=chain.source, notes=notes,
                      score_label=getattr(loaded, "score_label", None) or LOG_RATIO_LABEL)


def _is_language_model(scorer) -> bool:
    return not hasattr(scorer, "score_chain")


def score_mutations(chain: Chain, variants: Sequence[str], model=None,
                    plddt_mask: str = "auto", plddt_threshold: float = DEFAULT_PLDDT_THRESHOLD,
                    device: str = "auto", batch_size: int | None = None, backend: str = "auto",
                    tokens: StructureTokens | None = None) -> np.ndarray:
    """One masked-marginal score per variant string (``A23G`` or ``A23G:L45P``).

    ``tokens`` (from ``chain_tokens``) saves encoding the chain again when the caller already has them.
    """
    loaded = _as_model(model, device)
    if tokens is None:
        tokens = chain_tokens(chain, plddt_mask, plddt_threshold, backend)
    parsed = [parse_variant(v, tokens.aa) for v in variants]
    return sites_with(loaded, chain, tokens, parsed, batch_size)
