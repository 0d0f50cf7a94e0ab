"""A plain PyTorch implementation of SaProt's zero-shot scores, to check the core against.

Written from SaProt's published rule (shared/docs/saprot-reference.md), independent of the core's scan
code: the vocabulary is rebuilt from SaProt's two alphabets, each masked site becomes "#" + its 3Di
letter, one forward pass of transformers' EsmForMaskedLM per masked sequence, softmax over all 446
tokens, P(aa) = sum of the 21 tokens carrying aa, score = log P(mt) - log P(wt).
"""
from __future__ import annotations

import itertools

import numpy as np

SAPROT_AA = "ACDEFGHIKLMNPQRSTVWY#"
SAPROT_3DI = "pynwrqhgdlvtmfsaeikc#"
VOCAB = ["<cls>", "<pad>", "<eos>", "<unk>", "<mask>"] + [a + b for a, b in itertools.product(SAPROT_AA, SAPROT_3DI)]
INDEX = {tok: i for i, tok in enumerate(VOCAB)}
TWENTY = SAPROT_AA[:20]


def load_hf_model(hf_dir):
    import torch
    from transformers import EsmForMaskedLM

    torch.set_num_threads(1)
    return EsmForMaskedLM.from_pretrained(str(hf_dir), dtype=torch.float32).eval()


def token_ids(aa: str, struct: str) -> list[int]:
    return [0] + [INDEX.get(a + s, 3) for a, s in zip(aa, struct.lower())] + [2]


def _log_p_aa(model, ids: list[int], positions: list[int]) -> np.ndarray:
    """log P(aa) (20 values) at residue ``positions`` (0-based) of one sequence of token ids."""
    import torch

    with torch.no_grad():
        x = torch.tensor([ids])
        logits = model(input_ids=x, attention_mask=torch.ones_like(x)).logits[0].double()
    probs = torch.softmax(logits, dim=-1)
    out = []
    for pos in positions:
        p = probs[pos + 1]
        out.append([float(torch.log(p[INDEX[a + "p"]:INDEX[a + "p"] + 21].sum())) for a in TWENTY])
    return np.array(out)


def masked_marginal(model, aa: str, struct: str, positions=None) -> np.ndarray:
    """(L, 20) scores: for each site, mask it ("#" + 3Di letter) and compare every aa with the wild type;
    with ``positions`` (0-based), (len(positions), 20) scores of those sites only."""
    ids = token_ids(aa, struct)
    sites = range(len(aa)) if positions is None else list(positions)
    scores = np.zeros((len(sites), 20))
    for row, i in enumerate(sites):
        masked = list(ids)
        masked[i + 1] = INDEX["#" + struct[i].lower()]
        lp = _log_p_aa(model, masked, [i])[0]
        scores[row] = lp - lp[TWENTY.index(aa[i])]
    return scores


def wt_marginal(model, aa: str, struct: str) -> np.ndarray:
    """(L, 20) scores from one pass over the unmasked sequence."""
    lp = _log_p_aa(model, token_ids(aa, struct), list(range(len(aa))))
    return lp - lp[np.arange(len(aa)), [TWENTY.index(a) for a in aa]][:, None]


def variant_score(model, aa: str, struct: str, variant: str) -> float:
    """SaProt's score of ``A23G:L45P``: every site masked in the same pass, log-ratios summed."""
    sites = [(p[0], int(p[1:-1]) - 1, p[-1]) for p in variant.split(":")]
    masked = token_ids(aa, struct)
    for wt, i, _ in sites:
        assert aa[i] == wt
        masked[i + 1] = INDEX["#" + struct[i].lower()]
    lp = _log_p_aa(model, masked, [i for _, i, _ in sites])
    return float(sum(lp[k, TWENTY.index(mt)] - lp[k, TWENTY.index(wt)] for k, (wt, _, mt) in enumerate(sites)))


def torch_logits(model, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reference logits of transformers' EsmForMaskedLM (fp32) for a padded batch."""
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits
    return out.float().numpy()


def hf_default_checkpoint(out, dims: dict, seed: int = 0):
    """A checkpoint exactly as transformers initialises EsmForMaskedLM (no widened head), with SaProt's files."""
    import torch
    from transformers import EsmForMaskedLM

    from saprot_scan.models.architectures import esm_config, write_tokenizer_files

    torch.manual_seed(seed)
    EsmForMaskedLM(esm_config(**dims)).eval().save_pretrained(out, safe_serialization=True)
    write_tokenizer_files(out)
    return out


def add_outlier_channels(folder) -> None:
    """Give a saved checkpoint realistic magnitudes: weights drawn at std 0.5 and, in every layer, two outlier
    channels (LayerNorm gain 25, residual bias 40), as trained ESM-2-style models carry."""
    import torch
    from transformers import EsmForMaskedLM

    model = EsmForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.dim() == 2 and "embeddings" not in name:
                parameter.normal_(0.0, 0.5, generator=generator)
        for layer in model.esm.encoder.layer:
            layer.attention.LayerNorm.weight[[3, 17]] = 25.0
            layer.output.dense.bias[[3, 17]] = 40.0
    model.save_pretrained(folder, safe_serialization=True)
