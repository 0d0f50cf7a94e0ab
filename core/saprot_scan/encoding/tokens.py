"""SaProt's structure-aware vocabulary: token ids for (amino acid, 3Di letter) pairs, and a chain's tokens.

Facts from SaProt's ``utils/constants.py`` and ``utils/foldseek_util.py`` (see
``shared/docs/saprot-reference.md``): 5 special tokens, then every (amino acid, 3Di) pair,
id = 5 + 21 * aa_index + struct_index.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPECIAL_TOKENS = ("<cls>", "<pad>", "<eos>", "<unk>", "<mask>")
CLS_ID, PAD_ID, EOS_ID, UNK_ID, MASK_ID = range(5)
AA_LETTERS = "ACDEFGHIKLMNPQRSTVWY#"
STRUCT_LETTERS = "pynwrqhgdlvtmfsaeikc#"
#: The 20 standard amino acids, in the order scores are stored (columns of a scan).
AMINO_ACIDS = AA_LETTERS[:20]
VOCAB_SIZE = len(SPECIAL_TOKENS) + len(AA_LETTERS) * len(STRUCT_LETTERS)  # 446
#: Residues SaProt sees in one pass: 1024 tokens in pretraining minus <cls> and <eos>.
MAX_RESIDUES = 1022
#: Token positions of one pass (<cls> + MAX_RESIDUES + <eos>): the models' position range.
MAX_POSITIONS = MAX_RESIDUES + 4


def token_id(aa: str, struct: str) -> int:
    """Id of the combined token ``aa + struct`` (e.g. ``"Ap"`` -> 5)."""
    return 5 + 21 * AA_LETTERS.index(aa) + STRUCT_LETTERS.index(struct)


def vocabulary() -> list[str]:
    """All 446 tokens in id order (what SaProt's tokenizer's vocab file lists)."""
    return list(SPECIAL_TOKENS) + [a + s for a in AA_LETTERS for s in STRUCT_LETTERS]


def aa_token_ids(aa: str) -> np.ndarray:
    """The 21 token ids that carry amino acid ``aa`` (``aa+'p'`` .. ``aa+'#'``)."""
    start = token_id(aa, STRUCT_LETTERS[0])
    return np.arange(start, start + len(STRUCT_LETTERS))


def combine(aa_seq: str, struct_seq: str) -> str:
    """SaProt's combined sequence: amino acid + lower-cased 3Di letter per residue."""
    if len(aa_seq) != len(struct_seq):
        raise ValueError(f"amino-acid ({len(aa_seq)}) and 3Di ({len(struct_seq)}) lengths differ")
    return "".join(a + s.lower() for a, s in zip(aa_seq, struct_seq))


def split_combined(combined: str) -> list[str]:
    """Split a combined sequence into its two-letter tokens."""
    if len(combined) % 2:
        raise ValueError("a combined sequence has an even number of letters")
    return [combined[i:i + 2] for i in range(0, len(combined), 2)]


def encode(combined: str) -> np.ndarray:
    """Token ids for ``<cls> + residues + <eos>`` (int64, as the ONNX model takes them).

    Letters outside SaProt's alphabets (e.g. ``X``) map to ``<unk>`` like EsmTokenizer does.
    """
    ids = [CLS_ID]
    for tok in split_combined(combined):
        aa, st = tok[0], tok[1]
        if aa in AA_LETTERS and st in STRUCT_LETTERS:
            ids.append(token_id(aa, st))
        else:
            ids.append(UNK_ID)
    ids.append(EOS_ID)
    return np.asarray(ids, dtype=np.int64)


@dataclass(frozen=True)
class StructureTokens:
    """What SaProt sees for one chain, plus how it was made (for the user to read)."""

    aa: str
    struct: str  # 3Di letters after masking, lower case, '#' where masked
    plddt_masked: bool
    masked_count: int

    @property
    def combined(self) -> str:
        return combine(self.aa, self.struct)

    def ids(self) -> np.ndarray:
        return encode(self.combined)
