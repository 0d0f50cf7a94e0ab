"""When onnxruntime's worker threads may spin: only while other work leaves the cores free.

Real processes and real CPU accounting (/proc/stat): a busy loop in another process must count, the
same loop inside this process must not (the load average counts both, which made a scan that had
just finished stop the next one from spinning).
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from saprot_scan.backends import threads as runtime


@contextmanager
def _busy_thread_here():
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(1000))

    thread = threading.Thread(target=spin, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@contextmanager
def _busy_process_elsewhere():
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        process.kill()
        process.wait()


def _busy_cores_during(work) -> float:
    with work():
        time.sleep(0.2)
        return runtime.other_busy_cores(window=0.5)


@pytest.mark.skipif(runtime.other_busy_cores(0.01) is None, reason="no /proc/stat on this system")
def test_other_processes_count_this_one_does_not():
    already = runtime.other_busy_cores(window=0.5)
    if already > 0.5:  # a real measurement of the machine: it needs one idle core to see our process add to it
        pytest.skip(f"other processes already keep {already:.1f} cores busy; this check needs an idle core")
    while_we_work = _busy_cores_during(_busy_thread_here)
    while_another_works = _busy_cores_during(_busy_process_elsewhere)
    assert while_another_works > 0.5
    assert while_another_works - while_we_work > 0.5


def test_the_environment_decides_when_set(monkeypatch):
    monkeypatch.setenv("SAPROT_SCAN_SPIN", "0")
    assert runtime.spin_ok() is False
    monkeypatch.setenv("SAPROT_SCAN_SPIN", "1")
    assert runtime.spin_ok() is True
    monkeypatch.delenv("SAPROT_SCAN_SPIN")
    runtime.forget_spin_decision()
    first = runtime.spin_ok()
    assert runtime.last_spin_decision() is not None and runtime.last_spin_decision()[1] is first
    assert runtime.spin_ok() is first  # measured once, then kept for a while (sessions open in bursts)
