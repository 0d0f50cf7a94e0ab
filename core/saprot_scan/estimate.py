"""How long a language model's scan will take on this machine, said before it starts, and the time left while
it runs.

A SaProt masked scan is one model run per ``batch`` residues, each over the chain's whole window, so its
time is (runs) x (seconds per run at that length). Seconds per run at T tokens follow

    fixed + linear * T + quadratic * T**2

(``linear`` the work that grows with the tokens: embeddings, projections, feed-forward; ``quadratic``
attention, which compares every token with every other). How the time grows with length is measured once per
network shape, 100 to 3,000 residues, and shipped as ``_models/cost_growth.json`` (format 1, written by
bench/cost_growth.py: one batch row's milliseconds as c0 + c1*T + c2*T**2 per shape). How fast this machine
is comes from a calibration: a few runs timed at three lengths with the scan's own batch size; the shipped
growth curve whose shape matches those timings best is scaled to the longest of them. Without a measured file the three timings
are fitted directly (non-negative least squares), which extrapolates less well beyond its longest length.
The result is cached per machine, model file, precision, device and thread count in the user's cache
(``calibration.json``), so only a model's first scan on a machine pays for it (measured on 2 shared cores:
2 to 8 s for 35M int8, 18 to 37 s for 650M int8). Measured error: BENCHMARKS.md ("Colours that arrive early, and
the time estimate"): within 2x.
"""
from __future__ import annotations

import itertools
import json
import os
import platform
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from saprot_scan.settings import cache_dir

#: Token counts the calibration times (<cls> + residues + <eos>): short, medium and long enough for attention.
CALIBRATION_TOKENS = (34, 130, 386)
#: Timed runs per length (after one untimed warm-up run); the fastest is kept (others only add noise).
REPEATS = 2
#: Bumped when the stored coefficients would mean something else.
CALIBRATION_FORMAT = 2


@dataclass(frozen=True)
class CostModel:
    """Seconds per model run of ``batch`` sequences of T tokens: fixed + linear*T + quadratic*T**2."""

    fixed: float
    linear: float
    quadratic: float
    batch: int

    def run_seconds(self, tokens: int, sequences: int | None = None) -> float:
        """One run of ``sequences`` (default: a full batch) sequences of ``tokens`` tokens; the per-sequence
        part scales with the sequences, the fixed part does not."""
        grows = self.linear * tokens + self.quadratic * tokens * tokens
        share = 1.0 if sequences is None else sequences / max(1, self.batch)
        return self.fixed + grows * share


def scan_seconds(cost: CostModel, length: int, method: str, rows: int | None = None,
                 batch_size: int | None = None) -> float:
    """Predicted seconds of a scan of a ``length``-residue chain: ``rows`` masked passes (default: every
    residue) spread over the chain's windows, ``batch_size`` per run (default: the calibrated batch), or one
    wt pass per window."""
    from saprot_scan.scoring.marginals import plan_windows

    windows = plan_windows(length)
    one_pass = sum(cost.run_seconds(w.stop - w.start + 2, 1) for w in windows)
    if method != "masked":
        return one_pass
    rows = length if rows is None else rows
    batch = batch_size or cost.batch
    seconds = 0.0
    for window in windows:
        owned = (window.own_stop - window.own_start) * rows / max(1, length)
        seconds += owned / batch * cost.run_seconds(window.stop - window.start + 2, batch)
    return seconds


def duration_text(seconds: float) -> str:
    """'40 s', '3 min', '1.5 h': how long, as a person says it."""
    if seconds < 90:
        return f"{max(1, int(round(seconds)))} s"
    if seconds < 90 * 60:
        return f"{int(round(seconds / 60))} min"
    return f"{seconds / 3600:.1f} h"


def estimate_line(seconds: float, scorer, length: int, reused: int = 0, selected: int | None = None) -> str:
    """The one line said before a scan: 'about 40 s on this machine (saprot-35m, int8, 300 residues)'."""
    extra = f", {reused} reused from a stopped scan" if reused else ""
    extra += f", {selected} of them selected" if selected is not None else ""
    return (f"about {duration_text(seconds)} on this machine ({scorer.name}, {scorer.precision}, "
            f"{length} residues{extra})")


class Countdown:
    """Time left of a running scan: the estimate until a few seconds have passed, then the rate measured so far
    (which already includes whatever else the machine is doing)."""

    def __init__(self, estimate_s: float, total: int, start_done: int = 0):
        self.estimate_s, self.total, self.start_done = estimate_s, total, start_done
        self.started = time.monotonic()

    def seconds_left(self, done: int) -> float:
        elapsed = time.monotonic() - self.started
        ran = done - self.start_done
        left = max(0, self.total - done)
        if ran > 0 and elapsed >= 2.0:
            return elapsed / ran * left
        return max(0.0, self.estimate_s - elapsed) if left else 0.0

    def text(self, done: int) -> str:
        return f"about {duration_text(self.seconds_left(done))} left"


def announce(scorer, plan, say: Callable[[str], None], batch_size: int | None = None) -> Countdown | None:
    """Say how long the scan ``plan`` (``progressive.ScanPlan``) will take, before it starts, and return its
    Countdown; None (and nothing said) for scorers that are not language models (they take seconds) and for
    a result already in the cache."""
    if plan.cached or not is_language_model(scorer):
        return None
    cost = calibration(scorer, say)
    rows = plan.rows if plan.method == "masked" else None
    seconds = scan_seconds(cost, plan.length, plan.method, rows, batch_size=batch_size)
    selected = plan.rows if plan.method == "masked" and plan.reused + plan.rows < plan.length else None
    say(estimate_line(seconds, scorer, plan.length, plan.reused, selected))
    units = plan.reused + plan.rows if plan.method == "masked" else plan.length  # what progress counts
    return Countdown(seconds, units, plan.reused)


def is_language_model(scorer) -> bool:
    """A scorer whose scans run a language model pass by pass (the ones worth an estimate)."""
    return getattr(scorer, "kind", "") == "language-model" and hasattr(scorer, "logits")


def batch_line(cost: CostModel, model: str, precision: str, lengths: list[list[int]], count: int, method: str,
               workers: int = 1, batch_size: int | None = None) -> str:
    """The batch's line: ``lengths`` are the chain lengths of a sample of the ``count`` structures to score."""
    per_structure = [sum(scan_seconds(cost, n, method, batch_size=batch_size) for n in chains) for chains in lengths]
    seconds = float(np.mean(per_structure)) * count / max(1, workers) if per_structure else 0.0
    residues = float(np.mean([sum(chains) for chains in lengths])) if lengths else 0.0
    sample = "" if len(lengths) >= count else f", from the first {len(lengths)}"
    return (f"about {duration_text(seconds)} on this machine ({model}, {precision}, {count} structure"
            f"{'s' if count != 1 else ''} of {residues:.0f} residues on average{sample})")


def machine_key(scorer) -> str:
    """What the calibration depends on: this CPU, the threads a scan uses, the model file, precision, device."""
    from saprot_scan.backends.threads import default_threads

    return "|".join([_cpu_name(), f"threads={default_threads()}", f"omp={os.environ.get('OMP_NUM_THREADS', '')}",
                     str(getattr(scorer, "sha256", "")), str(getattr(scorer, "precision", "")),
                     str(getattr(scorer, "device", ""))])


def calibration(scorer, say: Callable[[str], None] | None = None) -> CostModel:
    """The scorer's cost model on this machine: read from the user's cache, else measured now (``say`` is told
    first, one line) and cached."""
    key = machine_key(scorer)
    stored = _read_store()
    entry = stored.get(key)
    if entry and entry.get("format") == CALIBRATION_FORMAT:
        return CostModel(**entry["model"])
    if say is not None:
        say(f"timing {scorer.name} ({scorer.precision}) on this machine once, for time estimates "
            f"({len(CALIBRATION_TOKENS) * (REPEATS + 1)} short runs)")
    model, timings = measure(scorer)
    stored[key] = {"format": CALIBRATION_FORMAT, "model": asdict(model), "timings": timings,
                   "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _write_store(stored)
    return model


def measure(scorer) -> tuple[CostModel, dict]:
    """Time runs of the scan's batch size at CALIBRATION_TOKENS and derive the cost model; (model, what was
    measured and which growth it used)."""
    from saprot_scan.scoring.marginals import checked_logits

    batch = max(1, int(scorer.default_batch_size(CALIBRATION_TOKENS[-1])))
    rng = np.random.default_rng(0)
    timings = {}
    for tokens in CALIBRATION_TOKENS:
        ids = rng.integers(5, 445, size=(batch, tokens), dtype=np.int64)
        ids[:, 0], ids[:, -1] = 0, 2
        mask, rows = np.ones_like(ids), np.ones((batch, 1), dtype=np.int64)
        best = np.inf
        for attempt in range(REPEATS + 1):
            start = time.perf_counter()
            checked_logits(scorer, ids, mask, rows)
            if attempt:  # the first run of a shape warms caches and is not counted
                best = min(best, time.perf_counter() - start)
        timings[tokens] = best
    coefficients, growth = scaled_growth(timings, batch)
    if coefficients is None:
        coefficients, growth = fit_cost(list(timings), list(timings.values())), "fitted to the calibration"
    return CostModel(*coefficients, batch), {"seconds": {str(k): v for k, v in timings.items()}, "growth": growth}


def growth_curves(path: Path | None = None) -> dict[str, tuple[float, float, float]]:
    """Measured (c0, c1, c2) per shape: one batch row's milliseconds at T tokens is c0 + c1*T + c2*T**2 ({} when
    the file is missing, of another format, or not yet measured; ``scoring.cost_growth`` reads it)."""
    from saprot_scan.scoring.cost_growth import measured_growth

    return {name: cost.row_ms for name, cost in measured_growth(path).items()}


def scaled_growth(timings: dict[int, float], batch: int, curves: dict | None = None
                  ) -> tuple[tuple[float, float, float] | None, str]:
    """Per-run (fixed, linear, quadratic) seconds from the measured growth curve that best matches this machine's
    ``timings`` (seconds per run of ``batch`` rows by token count), scaled at the longest timed length (the one
    nearest the lengths scans run at; short runs are dominated by overheads that differ between machines);
    (None, "") without curves."""
    curves = growth_curves() if curves is None else curves
    best, best_error, name = None, np.inf, ""
    longest = max(timings)
    for shape, (c0, c1, c2) in curves.items():
        runs = {t: batch * (c0 + c1 * t + c2 * t * t) / 1000.0 for t in timings}
        ratios = np.log([timings[t] / runs[t] for t in timings])
        error = float(np.var(ratios))  # how far the curve's shape is from this machine's timings
        if error < best_error:
            scale = timings[longest] / runs[longest]
            best, best_error, name = tuple(scale * batch * c / 1000.0 for c in (c0, c1, c2)), error, shape
    return best, (f"measured growth of {name}, scaled to the calibration" if best is not None else "")


def fit_cost(tokens: list[int], seconds: list[float]) -> tuple[float, float, float]:
    """Non-negative (fixed, linear, quadratic) with the least squared relative error over the timings: every
    subset of the three terms is fitted and the best one with no negative coefficient wins."""
    t = np.asarray(tokens, dtype=float)
    y = np.asarray(seconds, dtype=float)
    columns = np.column_stack([np.ones_like(t), t, t * t]) / y[:, None]
    best, best_error = (float(y.mean()), 0.0, 0.0), np.inf
    for size in (1, 2, 3):
        for subset in itertools.combinations(range(3), size):
            coef, *_ = np.linalg.lstsq(columns[:, subset], np.ones_like(y), rcond=None)
            if (coef < 0).any():
                continue
            full = np.zeros(3)
            full[list(subset)] = coef
            error = float(((columns @ full - 1.0) ** 2).sum())
            if error < best_error - 1e-12:
                best, best_error = tuple(float(v) for v in full), error
    return best


def calibration_file():
    return cache_dir() / "calibration.json"


def _read_store() -> dict:
    try:
        data = json.loads(calibration_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_store(data: dict) -> None:
    """All-or-nothing; a cache that cannot be written only means calibrating again next time."""
    from saprot_scan.outputs.files import write_text_atomic

    try:
        calibration_file().parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(calibration_file(), json.dumps(data, indent=1))
    except OSError:
        pass


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
