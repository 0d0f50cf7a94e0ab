"""Train a compact SaProt-style EsmForMaskedLM on SCOPe40 (fold split), with SaProt's masking objective.

Run as ``python -m models.training.train --out DIR`` from the repository root; `make train-default` calls
`models.training.build_default`, which runs this with the chosen configuration, then evaluates and exports.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import EsmConfig, EsmForMaskedLM

from saprot_scan import CLS_ID, EOS_ID, PAD_ID, VOCAB_SIZE
from saprot_scan import esm_config as core_esm_config

from .data import DEFAULT_DATA_DIR, load_scope40, split_by_fold
from .evaluate import choose_sites, model_probabilities, score
from .masking import IGNORE_INDEX, drop_structure, saprot_mask


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights (with the data and the library versions)."""

    layers: int = 5
    hidden: int = 192
    heads: int = 6
    intermediate: int = 768
    dropout: float = 0.1
    crop: int = 256  # residues; a random window of longer chains is used each epoch
    batch_tokens: int = 8192  # padded tokens per optimiser step
    epochs: int = 4
    lr: float = 2e-3
    warmup_steps: int = 100
    weight_decay: float = 0.01
    seed: int = 0
    split_seed: int = 0


def esm_config(cfg: TrainConfig) -> EsmConfig:
    """SaProt's model family (the core's ``esm_config``: ESM-2 layout, rotary positions, token dropout, the
    446-token vocabulary) at this run's size and dropout."""
    return core_esm_config(cfg.layers, cfg.hidden, cfg.heads, cfg.intermediate, hidden_dropout_prob=cfg.dropout,
                           attention_probs_dropout_prob=cfg.dropout, is_folding_model=False, tie_word_embeddings=True)


def _crop(ids: np.ndarray, crop: int, rng: np.random.Generator) -> np.ndarray:
    residues = ids[1:-1]
    if residues.size <= crop:
        return ids
    start = int(rng.integers(0, residues.size - crop + 1))
    return np.concatenate([[CLS_ID], residues[start:start + crop], [EOS_ID]])


def epoch_batches(token_ids: list[np.ndarray], cfg: TrainConfig, rng: np.random.Generator):
    """Masked, padded batches for one epoch: crop, imitate pLDDT '#', mask; group similar lengths."""
    examples = []
    for ids in token_ids:
        ids = drop_structure(_crop(ids, cfg.crop, rng), rng)
        examples.append(saprot_mask(ids, rng))
    order = rng.permutation(len(examples))
    # Sort within pools of ~50 batches so padding stays small but batches still mix.
    pool = 50 * max(1, cfg.batch_tokens // (cfg.crop + 2))
    batches = []
    for p in range(0, len(order), pool):
        chunk = sorted(order[p:p + pool], key=lambda i: examples[i][0].size)
        current: list[int] = []
        for i in chunk:
            width = max([examples[j][0].size for j in current] + [examples[i][0].size])
            if current and width * (len(current) + 1) > cfg.batch_tokens:
                batches.append(current)
                current = []
            current.append(i)
        if current:
            batches.append(current)
    for b in rng.permutation(len(batches)):
        rows = [examples[i] for i in batches[b]]
        width = max(r[0].size for r in rows)
        inputs = np.full((len(rows), width), PAD_ID, dtype=np.int64)
        labels = np.full((len(rows), width), IGNORE_INDEX, dtype=np.int64)
        attention = np.zeros((len(rows), width), dtype=np.int64)
        for k, (x, y) in enumerate(rows):
            inputs[k, :x.size], labels[k, :y.size], attention[k, :x.size] = x, y, 1
        yield torch.from_numpy(inputs), torch.from_numpy(labels), torch.from_numpy(attention)


def torch_logits_fn(model: EsmForMaskedLM, device: torch.device):
    """Adapter so evaluation can call the PyTorch model like the ONNX one."""
    def logits(ids: np.ndarray, attention: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = model(input_ids=torch.from_numpy(ids).to(device),
                        attention_mask=torch.from_numpy(attention).to(device)).logits
        return out.float().cpu().numpy()
    return logits


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(cfg: TrainConfig, out_dir: Path, data_dir: Path = DEFAULT_DATA_DIR, threads: int = 2,
          log=None) -> dict:
    """Train, validate on held-out folds after every epoch, keep the best epoch; returns the training log."""
    log = log or (lambda line: print(line, flush=True))
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(cfg.seed)
    device = pick_device()
    split = split_by_fold(load_scope40(data_dir), seed=cfg.split_seed)
    train_ids = [d.token_ids() for d in split.train]
    val_sites = choose_sites(split.val)

    model = EsmForMaskedLM(esm_config(cfg)).to(device)
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimiser = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.98))
    tokens_per_epoch = sum(min(ids.size, cfg.crop + 2) for ids in train_ids)
    total_steps = max(1, cfg.epochs * math.ceil(tokens_per_epoch * 1.1 / cfg.batch_tokens))

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        progress = min(1.0, (step - cfg.warmup_steps) / max(1, total_steps - cfg.warmup_steps))
        return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    history, best, step, started = [], None, 0, time.time()
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        losses = []
        for inputs, labels, attention in epoch_batches(train_ids, cfg, rng):
            for group in optimiser.param_groups:
                group["lr"] = lr_at(step)
            logits = model(input_ids=inputs.to(device), attention_mask=attention.to(device)).logits
            loss = torch.nn.functional.cross_entropy(logits.view(-1, VOCAB_SIZE), labels.to(device).view(-1),
                                                     ignore_index=IGNORE_INDEX)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0:
                log(f"epoch {epoch} step {step}/{total_steps} loss {np.mean(losses[-50:]):.3f} "
                    f"{time.time() - started:.0f}s")
        model.eval()
        val = score(model_probabilities(torch_logits_fn(model, device), val_sites), val_sites.truth)
        entry = {"epoch": epoch, "step": step, "train_loss": round(float(np.mean(losses)), 4),
                 "val": val, "elapsed_s": round(time.time() - started, 1)}
        history.append(entry)
        log(json.dumps(entry))
        if best is None or val["perplexity"] < best["val"]["perplexity"]:
            best = entry
            model.save_pretrained(out_dir)  # safetensors
    record = {"config": asdict(cfg), "device": str(device), "threads": threads, "history": history,
              "best_epoch": best["epoch"], "train_seconds": round(time.time() - started, 1),
              "train_domains": len(split.train), "val_domains": len(split.val), "test_domains": len(split.test),
              "torch": torch.__version__}
    (Path(out_dir) / "training_log.json").write_text(json.dumps(record, indent=1))
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="checkpoint directory (save_pretrained)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--threads", type=int, default=2)
    for field, default in asdict(TrainConfig()).items():
        parser.add_argument(f"--{field.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args(argv)
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(TrainConfig())})
    args.out.mkdir(parents=True, exist_ok=True)
    train(cfg, args.out, args.data, args.threads)


if __name__ == "__main__":
    main()
