"""Progress of a batch: a bar (done / failed / per second / ETA) on a terminal, a plain line every N
structures (and at the end) when stderr is a log file or a pipe."""
from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


class Progress:
    def __init__(self, total: int, quiet: bool = False, every: int = 100, stream=None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.every = max(1, int(every))
        self.done = self.failed = self.skipped = 0
        self.start = time.monotonic()
        self._bar = None
        if not quiet and total and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="structures", unit="str", file=self.stream, mininterval=0.5,
                             dynamic_ncols=True)

    def note(self, text: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(f"batch: {text}", file=self.stream)
        else:
            print(f"batch: {text}", file=self.stream, flush=True)

    def line(self) -> str:
        finished = self.done + self.failed + self.skipped
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = finished / elapsed
        eta = _duration((self.total - finished) / rate) if rate > 0 else "?"
        return (f"{finished}/{self.total} structures ({self.failed} failed, {self.skipped} skipped), "
                f"{rate:.2f}/s, elapsed {_duration(elapsed)}, ETA {eta}")

    def update(self, status: str) -> None:
        if status == "ok":
            self.done += 1
        elif status == "failed":
            self.failed += 1
        else:
            self.skipped += 1
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(f"failed={self.failed}", refresh=False)
            self._bar.update(1)
        elif (self.done + self.failed + self.skipped) % self.every == 0:
            print(f"batch: {self.line()}", file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
