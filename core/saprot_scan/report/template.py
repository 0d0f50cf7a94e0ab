"""The page's HTML: the skeleton (``page.html``) with its style, the vendored 3D viewer, the data and the page's
script inlined, so the one file opens offline. Nothing here computes a number (that is ``data``)."""
from __future__ import annotations

import html
import json
import math
import re
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
VIEWER_JS = HERE / "vendor" / "3Dmol-min.js"


@lru_cache(maxsize=None)
def _asset(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _script_safe(code: str) -> str:
    """Code that cannot end its <script> element early."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


def _finite(value):
    """JSON has no NaN or infinity: those numbers become null (the page shows "–")."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def data_json(data: dict) -> str:
    """The data as JSON safe inside <script type="application/json"> (no <, > or & left to close it)."""
    text = json.dumps(_finite(data), separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(data: dict) -> str:
    """The whole self-contained page for ``report_data``'s ``data``: page.html's @@SLOT@@ marks filled (the
    inserted text is never searched for marks again)."""
    parts = {"TITLE": html.escape(str(data.get("title", "saprot-scan report"))),
             "STYLE": _asset(HERE / "page.css"), "VIEWER": _script_safe(_asset(VIEWER_JS)),
             "DATA": data_json(data), "SCRIPT": _script_safe(_asset(HERE / "page.js"))}
    pieces = re.split(r"@@([A-Z]+)@@", _asset(HERE / "page.html"))
    return "".join(parts[piece] if k % 2 else piece for k, piece in enumerate(pieces))
