"""SaProt-format Hugging Face checkpoints: the known architectures and random-weight ones for tests and benchmarks.

Architecture numbers from SaProt's released configs (shared/docs/saprot-reference.md). Making checkpoints
needs torch and transformers (tests, bench, training); nothing here is used to export them.
"""
from __future__ import annotations

import os
from pathlib import Path

from saprot_scan.encoding.tokens import CLS_ID, EOS_ID, MASK_ID, MAX_POSITIONS, PAD_ID, VOCAB_SIZE, vocabulary

ARCHITECTURES: dict[str, dict[str, int]] = {
    "saprot-35m": dict(num_hidden_layers=12, hidden_size=480, num_attention_heads=20, intermediate_size=1920),
    "saprot-650m": dict(num_hidden_layers=33, hidden_size=1280, num_attention_heads=20, intermediate_size=5120),
    # SaProt 1.3B: 650M's width with twice the layers (issue 18; the model card of westlake-repl/SaProt_1.3B_AF2)
    "saprot-1.3b": dict(num_hidden_layers=66, hidden_size=1280, num_attention_heads=20, intermediate_size=5120),
    "tiny": dict(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, intermediate_size=64),
}


def esm_config(num_hidden_layers: int, hidden_size: int, num_attention_heads: int, intermediate_size: int,
               **overrides):
    """An EsmConfig with SaProt's settings: 446-token vocabulary, rotary positions, token dropout. The one place
    SaProt's architecture is written down; ``overrides`` change single settings (dropout for training)."""
    from transformers import EsmConfig

    settings = dict(
        vocab_size=VOCAB_SIZE, mask_token_id=MASK_ID, pad_token_id=PAD_ID,
        hidden_size=hidden_size, num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads, intermediate_size=intermediate_size,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, max_position_embeddings=MAX_POSITIONS,
        position_embedding_type="rotary", token_dropout=True, emb_layer_norm_before=False,
        layer_norm_eps=1e-5, hidden_act="gelu", initializer_range=0.02,
        architectures=["EsmForMaskedLM"],
    )
    settings.update(overrides)
    return EsmConfig(**settings)


def write_tokenizer_files(out_dir: str | os.PathLike) -> None:
    """SaProt's tokenizer files (EsmTokenizer over the 446-token vocabulary)."""
    import json

    out = Path(out_dir)
    (out / "vocab.txt").write_text("\n".join(vocabulary()) + "\n")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "EsmTokenizer", "model_max_length": MAX_POSITIONS, "cls_token": "<cls>",
        "pad_token": "<pad>", "eos_token": "<eos>", "unk_token": "<unk>", "mask_token": "<mask>",
    }, indent=1))
    (out / "special_tokens_map.json").write_text(json.dumps({
        "cls_token": "<cls>", "pad_token": "<pad>", "eos_token": "<eos>", "unk_token": "<unk>",
        "mask_token": "<mask>"}, indent=1))


def random_checkpoint(out_dir: str | os.PathLike, architecture: str | dict = "tiny", seed: int = 0,
                      pickled: bool = False) -> Path:
    """Write a random-weight SaProt-format checkpoint (config, safetensors or with ``pickled`` the
    pytorch_model.bin SaProt's hub repos hold, tokenizer) to ``out_dir``."""
    import torch
    from transformers import EsmForMaskedLM

    dims = ARCHITECTURES[architecture] if isinstance(architecture, str) else architecture
    torch.manual_seed(seed)
    model = EsmForMaskedLM(esm_config(**dims)).eval()
    # Random init leaves the LM head near-uniform; widen it so scores vary like a trained model's.
    with torch.no_grad():
        for p in model.lm_head.parameters():
            p.normal_(0.0, 0.5)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=not pickled)
    write_tokenizer_files(out)
    return out


__all__ = ["ARCHITECTURES", "esm_config", "random_checkpoint", "write_tokenizer_files",
           "CLS_ID", "EOS_ID"]
