"""Record what a ChimeraX session logs, the way a user would read it in the Log panel."""
from __future__ import annotations

from chimerax.core.logger import HtmlLog


class LogCapture(HtmlLog):
    """An extra log on the session's logger that keeps every message and status line."""

    def __init__(self, session):
        super().__init__()
        self.messages: list[tuple[int, str, bool]] = []
        self.status_lines: list[str] = []
        session.logger.add_log(self)

    def log(self, level, msg, image_info, is_html):
        self.messages.append((level, msg, bool(is_html)))
        return False  # let the console log print it too

    def status(self, msg, color, secondary):
        if msg:
            self.status_lines.append(msg)
        return False

    def html(self) -> str:
        return "\n".join(m for _, m, is_html in self.messages if is_html)

    def text(self) -> str:
        return "\n".join(m for _, m, _ in self.messages)

    def clear(self) -> None:
        self.messages.clear()
        self.status_lines.clear()
