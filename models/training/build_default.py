"""`make train-default`: train the embedded default model, measure it, export it with the core, describe it.

Writes into ``models/default/``: the ONNX file, ``model.json`` (SHA-256 the registry checks on load,
architecture, training configuration, every metric) and ``checkpoint/`` (the PyTorch weights the ONNX
file was exported from, kept so the tests can prove the two agree).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from .baselines import FrequencyBaselines
from .data import DEFAULT_DATA_DIR, load_scope40, load_swissprot500, split_by_fold
from .evaluate import choose_sites, evaluate
from .onnx_eval import onnx_logits_fn, onnx_session, time_masked_marginal
from .train import TrainConfig, pick_device, torch_logits_fn, train

MODEL_NAME = "saprot-scan-default"
ONNX_FILE = "saprot-scan-default.onnx"
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "default"
FORMAT = ("onnx fp32, inputs input_ids/attention_mask (batch, length) and query_rows (batch, rows) (int64), "
          "output logits (batch, rows, 446) at the query rows")
#: Chosen on the validation folds from the sweep recorded in models/README.md.
CHOSEN = TrainConfig(layers=3, hidden=128, heads=4, intermediate=512, dropout=0.0, batch_tokens=2048,
                     epochs=6, lr=0.003, warmup_steps=200)


def _evaluate_all(logits_fn, baselines, sets) -> dict:
    return {name: evaluate(logits_fn, baselines, sites) for name, sites in sets.items()}


def _time_scans(onnx_path: Path) -> dict:
    """Best of two 300-residue masked-marginal scans on 2 and on 1 onnxruntime threads, wall and CPU seconds."""
    result = {}
    for threads in (2, 1):
        runs = [time_masked_marginal(onnx_session(onnx_path, threads=threads)) for _ in range(2)]
        result[f"threads_{threads}"] = {"wall_s": round(min(r[0] for r in runs), 2),
                                        "cpu_s": round(min(r[1] for r in runs), 2)}
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    result["cpu_count"] = os.cpu_count()
    return result


def build(out_dir: Path, data_dir: Path, cfg: TrainConfig, threads: int, log=print,
          trained: Path | None = None) -> dict:
    """Train (or take the checkpoint ``trained`` that ``train`` wrote with ``cfg``), measure, export, describe."""
    import torch
    from transformers import EsmForMaskedLM

    from saprot_scan import export_onnx
    from saprot_scan import sha256_file

    started = time.time()
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / "checkpoint"
    scratch = out_dir / ".checkpoint.training"
    shutil.rmtree(scratch, ignore_errors=True)
    if trained is None:
        record = train(cfg, scratch, data_dir, threads)
    else:
        shutil.copytree(trained, scratch)
        record = json.loads((scratch / "training_log.json").read_text())
        if record["config"] != asdict(cfg):
            raise SystemExit(f"{trained} was trained with {record['config']}, not {asdict(cfg)}")
    train_seconds = record["train_seconds"]

    split = split_by_fold(load_scope40(data_dir), seed=cfg.split_seed)
    baselines = FrequencyBaselines.fit(split.train)
    sets = {"val_folds": choose_sites(split.val), "test_folds": choose_sites(split.test),
            "swissprot500": choose_sites(load_swissprot500(data_dir))}
    model = EsmForMaskedLM.from_pretrained(scratch, attn_implementation="eager").eval()
    torch.set_num_threads(threads)
    metrics = _evaluate_all(torch_logits_fn(model, torch.device("cpu")), baselines, sets)
    log(json.dumps(metrics, indent=1))

    onnx_path = out_dir / ONNX_FILE
    report = export_onnx(scratch, onnx_path)
    session = onnx_session(onnx_path, threads=2)
    onnx_test = evaluate(onnx_logits_fn(session), baselines, sets["test_folds"])
    timing = _time_scans(onnx_path)

    (scratch / "training_log.json").unlink(missing_ok=True)
    shutil.rmtree(checkpoint, ignore_errors=True)
    os.replace(scratch, checkpoint)
    manifest = {
        "name": MODEL_NAME,
        "file": ONNX_FILE,
        "sha256": sha256_file(onnx_path),
        "size_bytes": onnx_path.stat().st_size,
        "format": FORMAT,
        "architecture": {"model_type": "esm (EsmForMaskedLM)", "layers": cfg.layers, "hidden": cfg.hidden,
                         "heads": cfg.heads, "intermediate": cfg.intermediate, "vocab_size": 446,
                         "position_embedding": "rotary", "token_dropout": True,
                         "parameters": int(sum(p.numel() for p in model.parameters()))},
        "training": {"config": asdict(cfg), "data": "SCOPe40 (Foldseek 3Di), training folds only",
                     "train_domains": record["train_domains"], "val_domains": record["val_domains"],
                     "test_domains": record["test_domains"], "best_epoch": record["best_epoch"],
                     "history": record["history"], "device": record["device"], "threads": threads,
                     "train_seconds": round(train_seconds), "build_from_existing_checkpoint": trained is not None,
                     "torch": torch.__version__,
                     "machine": platform.processor() or platform.machine()},
        "metrics": metrics,
        "onnx": {"max_abs_logit_diff_vs_pytorch": report["max_abs_logit_diff"], "test_folds": onnx_test,
                 "masked_marginal_300_residues": timing},
        "build_seconds": round(time.time() - started + (train_seconds if trained is not None else 0)),
        "not_saprot": "a compact model of SaProt's kind trained for saprot-scan; fetch saprot-35m or saprot-650m "
                      "for SaProt's accuracy",
    }
    (out_dir / "model.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def reexport(out_dir: Path, data_dir: Path) -> dict:
    """Export the committed checkpoint again with this version's exporter (no training) and refresh what
    the manifest says of the file: SHA-256, size, format, agreement with PyTorch, test-fold metrics
    through onnxruntime and the scan timing. The weights, and so the scores, do not change."""
    from saprot_scan import export_onnx
    from saprot_scan import sha256_file

    manifest = json.loads((out_dir / "model.json").read_text())
    split = split_by_fold(load_scope40(data_dir), seed=manifest["training"]["config"]["split_seed"])
    baselines = FrequencyBaselines.fit(split.train)
    onnx_path = out_dir / ONNX_FILE
    report = export_onnx(out_dir / "checkpoint", onnx_path)
    onnx_test = evaluate(onnx_logits_fn(onnx_session(onnx_path, threads=2)), baselines, choose_sites(split.test))
    manifest.update(sha256=sha256_file(onnx_path), size_bytes=onnx_path.stat().st_size, format=FORMAT)
    manifest["onnx"] = {"max_abs_logit_diff_vs_pytorch": report["max_abs_logit_diff"], "test_folds": onnx_test,
                        "masked_marginal_300_residues": _time_scans(onnx_path)}
    (out_dir / "model.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--threads", type=int, default=1,
                        help="CPU threads for training (the shipped model used 1; ignored on a GPU)")
    parser.add_argument("--trained", type=Path, default=None,
                        help="skip training: a checkpoint folder written by models.training.train with the chosen config")
    parser.add_argument("--reexport", action="store_true",
                        help="no training: export the committed checkpoint again and refresh the manifest's file facts")
    args = parser.parse_args(argv)
    if args.reexport:
        manifest = reexport(args.out, args.data)
        print(f"wrote {args.out / ONNX_FILE} sha256 {manifest['sha256']}", flush=True)
        return
    manifest = build(args.out, args.data, CHOSEN, args.threads, trained=args.trained)
    print(f"wrote {args.out / ONNX_FILE} sha256 {manifest['sha256']} in {manifest['build_seconds']} s "
          f"on {pick_device()}", flush=True)


if __name__ == "__main__":
    main()
