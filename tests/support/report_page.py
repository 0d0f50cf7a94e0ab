"""Reading a saprot-scan report page back without a browser: its data block and what it would load."""
from __future__ import annotations

import json
import re
from pathlib import Path

_DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)
#: Anything that would make the page fetch something: external scripts, styles, images, frames.
_EXTERNAL = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["\']?(?:https?:)?//', re.I)


def page_data(path: Path) -> dict:
    """The JSON data block the page draws from."""
    match = _DATA.search(path.read_text(encoding="utf-8"))
    assert match, f"{path} has no report data block"
    return json.loads(match.group(1))


def external_loads(path: Path) -> list[str]:
    """Elements that would load something from the network (a self-contained page has none)."""
    return _EXTERNAL.findall(path.read_text(encoding="utf-8"))
