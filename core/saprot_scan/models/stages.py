"""What a long model job (import, export, fp16 and int8 copies) is doing, told as it happens.

Why: a 650M import takes minutes; silence reads as a hang. Each stage is one line on stderr (what logs
and the viewers' message areas show); writing weights also gets a byte bar when stderr is a terminal.
"""
from __future__ import annotations

import contextlib
import sys
import time
from typing import Callable, Iterator, TextIO


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


class Stages:
    """One line per stage on ``stream`` (None: silent), or handed to ``sink`` (a viewer's status line)."""

    def __init__(self, stream: TextIO | None = sys.stderr, prefix: str = "saprot-scan",
                 sink: Callable[[str], None] | None = None):
        self.stream, self.prefix, self.sink = stream, prefix, sink

    def say(self, text: str) -> None:
        if self.sink is not None:
            self.sink(text)
        elif self.stream is not None:
            print(f"{self.prefix}: {text}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def writing(self, text: str, total: int) -> Iterator[Callable[[int], None]]:
        """A stage that writes ``total`` bytes: yields the callback to report each write."""
        start = time.monotonic()
        self.say(f"{text} ({human_bytes(total)})")
        bar = None
        if self.stream is not None and getattr(self.stream, "isatty", lambda: False)():
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="B", unit_scale=True, file=self.stream, leave=False, desc=text)
        written = [0]

        def update(count: int) -> None:
            written[0] += count
            if bar is not None:
                bar.update(count)

        try:
            yield update
        finally:
            if bar is not None:
                bar.close()
        self.say(f"{text}: done, {human_bytes(written[0])} in {time.monotonic() - start:.0f} s")


QUIET = Stages(None)
