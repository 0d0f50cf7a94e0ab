"""Print the metric tables of models/README.md from models/default/model.json (so the card can be refreshed)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = (("model", "this model (3Di + amino acids)"), ("model_no_structure", "this model, 3Di hidden (all `#`)"),
        ("aa_given_3di_frequency", "baseline: P(aa given 3Di letter)"), ("aa_frequency", "baseline: P(aa)"))
SETS = (("val_folds", "validation folds"), ("test_folds", "test folds"), ("swissprot500", "swissprot500"))


def metric_table(metrics: dict) -> str:
    head = "| | " + " | ".join(f"{title} acc. | ppl." for _, title in SETS) + " |"
    lines = [head, "|---|" + "---:|---:|" * len(SETS)]
    for key, title in ROWS:
        cells = [f"{metrics[s][key]['accuracy']:.3f} | {metrics[s][key]['perplexity']:.2f}" for s, _ in SETS]
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    sites = ", ".join(f"{title} {metrics[s]['model']['sites']}" for s, title in SETS)
    return "\n".join(lines) + f"\n\nSites evaluated: {sites}."


def history_table(history: list[dict]) -> str:
    lines = ["| epoch | steps | train loss | val acc. | val ppl. | elapsed s |", "|---:|---:|---:|---:|---:|---:|"]
    for h in history:
        lines.append(f"| {h['epoch']} | {h['step']} | {h['train_loss']:.3f} | {h['val']['accuracy']:.3f} | "
                     f"{h['val']['perplexity']:.2f} | {h['elapsed_s']:.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "default" / "model.json"
    manifest = json.loads(path.read_text())
    print(metric_table(manifest["metrics"]))
    print()
    print(history_table(manifest["training"]["history"]))
