"""A checkpoint's config.json read as transformers' EsmConfig reads it, and checked before anything is allocated.

Why here and not by transformers: the exporter runs without it (``saprot-scan[fetch]``). So every key the graph
depends on is read with transformers' own default when it is absent (``position_embedding_type`` "absolute",
``layer_norm_eps`` 1e-12, ``rope_theta`` 10000, ``tie_word_embeddings`` true, ``token_dropout`` false), and a
setting the exporter does not build (absolute or relative position embeddings, RoPE scaling, a decoder) is
refused in one line instead of being built as something else. Sizes are checked as numbers with caps far above
SaProt 1.3B, so a crafted config cannot make the builder allocate gigabytes before the weights' shapes are
compared with it (issue 27).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from saprot_scan.encoding.tokens import MASK_ID, VOCAB_SIZE
from saprot_scan.errors import InputError, ModelError

MAX_CONFIG_BYTES = 1_000_000  # SaProt's config.json is under 1 KB
#: key -> (smallest, largest) accepted value; SaProt 1.3B is 66 layers x 1280 (20 heads, 5120 inner)
SIZE_LIMITS = {"num_hidden_layers": (1, 256), "hidden_size": (2, 16384), "num_attention_heads": (1, 256),
               "intermediate_size": (1, 65536)}


@dataclass(frozen=True)
class EsmShape:
    """The settings of an ESM checkpoint that change the graph."""
    layers: int
    hidden: int
    heads: int
    intermediate: int
    eps: float = 1e-12
    token_dropout: bool = True
    layer_norm_before: bool = False
    rope_theta: float = 10000.0
    tied: bool = True  # the LM head's decoder is the word embeddings (transformers' tie_word_embeddings)

    @property
    def head_size(self) -> int:
        return self.hidden // self.heads

    @property
    def dims(self) -> tuple[int, int, int, int]:
        """(layers, hidden, heads, intermediate): what a registry architecture fixes."""
        return self.layers, self.hidden, self.heads, self.intermediate


def load_config(folder: str | Path) -> dict:
    """config.json as a dictionary, or one line saying why not (missing, too large, not JSON, not an object)."""
    folder = Path(folder)
    path = folder / "config.json"
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{folder}: no config.json; expected a Hugging Face checkpoint folder") from None
    except OSError as err:
        raise ModelError(f"{folder.name}/config.json: not readable ({err.strerror or err})") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ModelError(f"{folder.name}/config.json: over {MAX_CONFIG_BYTES} bytes; not a model config")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ModelError(f"{folder.name}/config.json: not readable JSON ({str(err)[:80]})") from None
    if not isinstance(config, dict):
        raise ModelError(f"{folder.name}/config.json: a JSON {type(config).__name__}, not an object of settings")
    return config


def _size(config: dict, key: str, where: str) -> int:
    low, high = SIZE_LIMITS[key]
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ModelError(f"{where}/config.json: {key} is {str(value)[:40]}; expected a whole number from {low} "
                         f"to {high}")
    return value


def _number(config: dict, key: str, default: float, where: str, high: float) -> float:
    value = config.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < high and math.isfinite(value)):
        raise ModelError(f"{where}/config.json: {key} is {str(value)[:40]}; expected a positive number below {high:g}")
    return float(value)


def _flag(config: dict, key: str, default: bool, where: str) -> bool:
    value = config.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ModelError(f"{where}/config.json: {key} is {str(value)[:40]}; expected true or false")
    return value


def read_config(folder: str | Path) -> EsmShape:
    """The checkpoint's config.json, refused unless it describes a SaProt-style ESM model this builder covers."""
    folder = Path(folder)
    config = load_config(folder)
    where = folder.name
    if config.get("model_type") != "esm" or config.get("vocab_size") != VOCAB_SIZE:
        raise ModelError(f"{where}: not a SaProt checkpoint (need an ESM model with a {VOCAB_SIZE}-token "
                         f"vocabulary, found {str(config.get('model_type'))[:40]} with "
                         f"{str(config.get('vocab_size'))[:40]})")
    positions = config.get("position_embedding_type", "absolute")  # transformers' default when the key is absent
    if positions != "rotary":
        shown = f"{str(positions)[:40]!r}" + (" (transformers' default: the key is absent)"
                                              if "position_embedding_type" not in config else "")
        raise ModelError(f"{where}: position_embedding_type is {shown}; this exporter builds rotary positions only "
                         "(SaProt's config says \"rotary\"), so it refuses rather than build another model")
    unsupported = [f"{key}={str(config.get(key))[:40]}" for key, want in
                   (("hidden_act", "gelu"), ("is_decoder", False), ("add_cross_attention", False),
                    ("rope_scaling", None), ("is_folding_model", False)) if config.get(key, want) != want]
    if unsupported:
        raise ModelError(f"{where}: an ESM variant this exporter does not build ({', '.join(unsupported)})")
    layers, hidden, heads, intermediate = (_size(config, key, where) for key in SIZE_LIMITS)
    if hidden % heads or (hidden // heads) % 2:
        raise ModelError(f"{where}: {hidden} hidden units do not split into {heads} rotary heads")
    if config.get("head_dim") not in (None, hidden // heads):
        raise ModelError(f"{where}/config.json: head_dim {str(config.get('head_dim'))[:40]} is not hidden_size / "
                         f"num_attention_heads = {hidden // heads}")
    if config.get("mask_token_id", MASK_ID) != MASK_ID:
        raise ModelError(f"{where}: mask token id {str(config.get('mask_token_id'))[:40]} is not SaProt's {MASK_ID}")
    return EsmShape(layers, hidden, heads, intermediate,
                    eps=_number(config, "layer_norm_eps", 1e-12, where, 1.0),
                    token_dropout=_flag(config, "token_dropout", False, where),
                    layer_norm_before=_flag(config, "emb_layer_norm_before", False, where),
                    rope_theta=_number(config, "rope_theta", 10000.0, where, 1e12),
                    tied=_flag(config, "tie_word_embeddings", True, where))
