"""SaProt's pLDDT rule: which chains count as predicted, and the tokens a chain gets after masking.

SaProt hides the 3Di letter (``#``) of residues with pLDDT < 70 in AlphaFold files; saprot-scan extends
"AlphaFold file" to other predicted models (one B-factor per residue, all in 0..100) and keeps the rule
off files that declare an experimental method. numpy only.
"""
from __future__ import annotations

import numpy as np

from saprot_scan.encoding.structure import Chain
from saprot_scan.encoding.threedi import encode_3di
from saprot_scan.encoding.tokens import StructureTokens
from saprot_scan.errors import InputError

PLDDT_MODES = ("auto", "on", "off")
DEFAULT_PLDDT_THRESHOLD = 70.0


def plddt_mask(struct_seq: str, plddt: np.ndarray, threshold: float = DEFAULT_PLDDT_THRESHOLD) -> tuple[str, int]:
    """Replace 3Di letters of residues with pLDDT < threshold by ``#``; return (masked, count)."""
    plddt = np.asarray(plddt, dtype=float)
    if plddt.shape != (len(struct_seq),):
        raise ValueError("one pLDDT value per residue is needed")
    low = plddt < threshold
    masked = "".join("#" if m else s for s, m in zip(struct_seq, low))
    return masked, int(low.sum())



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
