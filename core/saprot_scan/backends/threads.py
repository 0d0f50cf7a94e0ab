"""How many CPU threads onnxruntime uses, and whether idle ones may spin (decided from other processes' load)."""
from __future__ import annotations

import os
import time

from saprot_scan.settings import ENV_SPIN, ENV_THREADS


def default_threads() -> int:
    """Intra-op threads: ``$SAPROT_SCAN_THREADS`` or every core the process may use."""
    if os.environ.get(ENV_THREADS):
        return max(1, int(os.environ[ENV_THREADS]))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def spin_ok() -> bool:
    """Whether idle worker threads may spin between operators. Measured (int8, 35M, 300 residues, 2 threads):
    on an idle machine spinning is 7% faster (29 vs 31 ms per pass); on a loaded one it steals the cores
    the scan needs (77-91 vs 59 ms). So spin only while other work keeps less than half a core busy;
    ``$SAPROT_SCAN_SPIN`` (0/1) decides instead when set."""
    if os.environ.get(ENV_SPIN) in ("0", "1"):
        return os.environ[ENV_SPIN] == "1"
    global _spin_decision
    now = time.monotonic()
    if _spin_decision is None or now - _spin_decision[0] > SPIN_DECISION_SECONDS:
        busy = other_busy_cores()
        if busy is not None:
            quiet = busy < 0.5
        else:  # no /proc/stat: the load average, which also counts this process's own work
            try:
                quiet = os.getloadavg()[0] < 0.5 * (os.cpu_count() or 1)
            except OSError:
                quiet = True
        _spin_decision = (now, quiet)
    return _spin_decision[1]


SPIN_DECISION_SECONDS = 30.0
_spin_decision: tuple[float, bool] | None = None


def _busy_ticks() -> int:
    """Clock ticks all CPUs spent busy since boot (Linux /proc/stat: all but idle and iowait)."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:9]]
    return sum(values) - values[3] - values[4]


def other_busy_cores(window: float = 0.1) -> float | None:
    """How many cores other work keeps busy now: busy CPU time over ``window`` seconds minus this
    process's own. Not the load average, which still counts this process's previous scans for a
    minute afterwards. None where /proc/stat does not exist."""
    try:
        ticks, own = _busy_ticks(), time.process_time()
        time.sleep(window)
        ticks, own = _busy_ticks() - ticks, time.process_time() - own
    except (OSError, ValueError, IndexError):
        return None
    return max(0.0, ticks / os.sysconf("SC_CLK_TCK") - own) / window


def last_spin_decision() -> tuple[float, bool] | None:
    """(monotonic time, quiet) of the spin decision in force, or None before the first one."""
    return _spin_decision


def forget_spin_decision() -> None:
    """Measure again at the next session instead of reusing the last decision."""
    global _spin_decision
    _spin_decision = None
