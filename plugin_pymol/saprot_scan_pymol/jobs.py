"""Run one scan at a time, off PyMOL's GUI thread when there is a GUI, with progress and cancel."""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable, TypeVar

from . import feedback
from .core_link import PluginError, user_errors
from .store import STORE

T = TypeVar("T")


class Stopped(Exception):
    """A stopped scan's work so far (``entries``: whole chains, and the stopped chain's partial result when it
    has one), raised by the work for the runner's ``on_stop``."""

    def __init__(self, entries: list):
        super().__init__("stopped")
        self.entries = entries


def gui_running() -> bool:
    """True inside PyMOL's Qt GUI (its main window exists); False for pymol -c and plain scripts."""
    module = sys.modules.get("pmg_qt.pymol_qt_gui")
    return module is not None and getattr(module, "window", None) is not None


class Progress:
    """Throttled progress lines, plus the latest fraction for a dialog's progress bar."""

    def __init__(self, label: str, interval_s: float = 2.0):
        self.label = label
        self.fraction = 0.0
        self.text = label
        self._interval = interval_s
        self._last = 0.0
        self._last_quarter = -1

    def __call__(self, text: str, fraction: float) -> None:
        self.fraction, self.text = fraction, text
        now = time.monotonic()
        quarter = int(fraction * 4)
        if now - self._last >= self._interval or quarter != self._last_quarter:
            self._last, self._last_quarter = now, quarter
            feedback.say(f"{text} ({fraction:.0%})")


class JobRunner:
    """Holds the single running scan; a second one is refused rather than queued."""

    def __init__(self):
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._done.set()
        self.cancel_event = threading.Event()
        self.progress: Progress | None = None
        self.label = ""
        self.last_outcome = ""
        self._on_stop = None

    def busy(self) -> bool:
        return not self._done.is_set()

    def run(self, label: str, work: Callable[[Progress, threading.Event], T],
            finish: Callable[[T], None], background: bool, on_stop: Callable[[list | None], None] | None = None):
        """Run work then finish; in the background return at once, otherwise return work's value. A stop calls
        ``on_stop`` (under the store's lock) with the work's ``Stopped.entries``, or None when it stopped with
        nothing to keep, so a scan that painted early colours can keep or take them back."""
        with self._guard:
            if self.busy():
                raise PluginError(f"a scan is already running ({self.label}); wait for it to finish "
                                  "or stop it with saprot_cancel")
            self._done.clear()
            self.cancel_event = threading.Event()
            self.progress = Progress(label)
            self.label = label
            self.last_outcome = "running"
            self._on_stop = on_stop
        if not background:
            try:
                return self._body(work, finish, reraise=True)
            finally:
                self._done.set()
        self._thread = threading.Thread(target=self._background, args=(work, finish),
                                        name="saprot_scan", daemon=True)
        feedback.say(f"{label} started in the background; saprot_cancel stops it")
        self._thread.start()
        return None

    def _background(self, work, finish) -> None:
        try:
            self._body(work, finish, reraise=False)
        finally:
            self._done.set()

    def _body(self, work, finish, reraise: bool):
        cancelled = _cancelled_type()
        try:
            value = work(self.progress, self.cancel_event)
            with STORE.lock:  # a cancel that arrives before the scene changes still wins
                if self.cancel_event.is_set():
                    raise cancelled("cancelled")
                finish(value)
            self.last_outcome = "done"
            return value
        except Stopped as stop:
            self.last_outcome = "cancelled"
            return self._stopped(stop.entries)
        except cancelled:
            self.last_outcome = "cancelled"
            return self._stopped(None)
        except user_errors() as err:
            self.last_outcome = f"error: {err}"
            if reraise:
                raise
            feedback.fail(str(err))
            return None
        except Exception as err:  # a bug: one line in the GUI, the full story for scripts
            self.last_outcome = f"failed: {type(err).__name__}: {err}"
            if reraise:
                raise
            feedback.fail(f"{self.label} failed: {type(err).__name__}: {err}")
            return None

    def _stopped(self, entries):
        if self._on_stop is None:
            feedback.say(f"{self.label} cancelled; nothing in the scene was changed")
            return None
        with STORE.lock:
            self._on_stop(entries)
        return None

    def cancel(self) -> bool:
        """Ask the running scan to stop at its next batch; False when nothing runs."""
        if not self.busy():
            return False
        self.cancel_event.set()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the current scan ends (for scripts and tests); True if it ended."""
        return self._done.wait(timeout)


def _cancelled_type() -> type[Exception]:
    """The core's ScanCancelled (raised inside scans), or a stand-in when the core is missing."""
    try:
        from saprot_scan import ScanCancelled
    except ImportError:
        return PluginError
    return ScanCancelled


RUNNER = JobRunner()
