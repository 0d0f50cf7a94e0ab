"""How the time of a SaProt pass grows with chain length: the measured cost model a time estimate scales by.

A per-machine calibration (a few timed passes at one length) says how fast this machine is; this file says how
the time changes with length, which depends on the network's shape but far less on the machine. The numbers
live in ``_models/cost_growth.json`` (written by ``bench/cost_growth.py``); its format, version 1::

    {
      "format": 1,
      "status": "measured" | "provisional",   # provisional: placeholders until the bench has run
      "about": "...",                          # one sentence for a human reader
      "machine": "...", "threads": 2, "date": "YYYY-MM-DD", "command": "python bench/cost_growth.py ...",
      "unit": "ms per batch row",
      "shapes": {
        "35m": {                               # one entry per network shape
          "layers": 12, "hidden": 480,         # what a model is matched on (nearest_shape)
          "precision": "int8",                 # the copy that was timed
          "batch": 4,                          # rows per pass when timed (the CPU default, onnx.CPU_BATCH)
          "row_ms": [c0, c1, c2],              # time of one batch row of T tokens: c0 + c1*T + c2*T**2
          "exponent": 1.1,                     # log-log slope of row_ms over the timed lengths
          "measured": [[tokens, row_ms], ...]  # the timed points the fit came from
        }, ...
      }
    }

T counts tokens, i.e. residues + 2 (<cls>, <eos>). A masked scan of L residues runs one batch row per residue
over a window of min(L, 1022) residues (scoring/marginals.plan_windows), so it costs about
L x row_ms(min(L, 1022) + 2): cubic-ish growth up to 1022 residues, linear beyond. The wild-type marginal is
one row per window. Only ratios of row_ms matter to an estimate calibrated on the machine it runs on.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from saprot_scan.encoding.tokens import MAX_RESIDUES
from saprot_scan.scoring.marginals import plan_windows

COST_FILE = Path(__file__).resolve().parents[1] / "_models" / "cost_growth.json"
FORMAT = 1
SPECIAL_TOKENS = 2  # <cls> and <eos> around every window


@dataclass(frozen=True)
class PassCost:
    """The measured growth of one network shape's pass time with length."""

    shape: str
    layers: int
    hidden: int
    precision: str
    row_ms: tuple[float, float, float]
    exponent: float

    def row_time(self, tokens: int) -> float:
        """Milliseconds of one batch row of ``tokens`` tokens on the machine that was measured."""
        c0, c1, c2 = self.row_ms
        return c0 + c1 * tokens + c2 * tokens * tokens

    def relative(self, tokens: int, reference_tokens: int) -> float:
        """How many times longer a row of ``tokens`` takes than one of ``reference_tokens``."""
        return self.row_time(tokens) / self.row_time(reference_tokens)


def load_cost_growth(path: str | Path | None = None) -> dict[str, PassCost]:
    """The cost model per shape name, from the packaged file (or ``path``)."""
    data = json.loads(Path(path or COST_FILE).read_text())
    if data.get("format") != FORMAT:
        raise ValueError(f"cost growth file format {data.get('format')!r}, this code reads {FORMAT}")
    return {name: PassCost(name, int(entry["layers"]), int(entry["hidden"]), str(entry["precision"]),
                           tuple(float(c) for c in entry["row_ms"]), float(entry["exponent"]))
            for name, entry in data["shapes"].items()}


def measured_growth(path: str | Path | None = None) -> dict[str, PassCost]:
    """The cost model per shape when the file holds measured numbers; {} when it is missing, of another format
    or still provisional (an estimate then fits the calibration's own timings instead)."""
    try:
        if json.loads(Path(path or COST_FILE).read_text()).get("status") != "measured":
            return {}
        return load_cost_growth(path)
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def nearest_shape(layers: int, hidden: int, costs: dict[str, PassCost] | None = None) -> PassCost:
    """The measured shape closest in size (layers x hidden^2, the weight work per token) to a model's."""
    costs = costs or load_cost_growth()
    size = layers * hidden * hidden
    return min(costs.values(), key=lambda c: abs((c.layers * c.hidden * c.hidden) / size - 1.0)
               if size else c.layers)


def masked_scan_rows(length: int, window_size: int = MAX_RESIDUES) -> list[tuple[int, int]]:
    """(batch rows, tokens per row) of a masked scan of ``length`` residues, one pair per window."""
    return [(w.own_stop - w.own_start, w.stop - w.start + SPECIAL_TOKENS) for w in plan_windows(length, window_size)]


def masked_scan_ms(cost: PassCost, length: int, window_size: int = MAX_RESIDUES) -> float:
    """Milliseconds of a masked scan of ``length`` residues on the measured machine (rows x row time)."""
    return sum(rows * cost.row_time(tokens) for rows, tokens in masked_scan_rows(length, window_size))
