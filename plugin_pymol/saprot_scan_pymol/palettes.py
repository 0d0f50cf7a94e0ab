"""Diverging palettes centred on 0 (damaging at one end, tolerated at the other) and PyMOL's colour indices.

The colour limit, the unscored grey and the default palette are the core's (``saprot_scan.viewers``), so
PyMOL and ChimeraX paint the same residue the same colour; the core is imported only when colouring, so
the plugin still loads (and says how to install the core) without it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

RGB = tuple[float, float, float]


def _hex(code: str) -> RGB:
    return tuple(int(code[i:i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


# (low = most damaging, centre = 0, high = most tolerated); ColorBrewer end and middle colours.
PALETTES: dict[str, tuple[RGB, RGB, RGB]] = {
    "red_white_blue": (_hex("#b2182b"), _hex("#ffffff"), _hex("#2166ac")),  # the core's default (viewers)
    "blue_white_red": (_hex("#2166ac"), _hex("#f7f7f7"), _hex("#b2182b")),
    "orange_white_purple": (_hex("#b35806"), _hex("#f7f7f7"), _hex("#542788")),
    "magenta_white_green": (_hex("#c51b7d"), _hex("#f7f7f7"), _hex("#4d9221")),
    "brown_white_teal": (_hex("#8c510a"), _hex("#f5f5f5"), _hex("#01665e")),
}
DEFAULT_PALETTE = "red_white_blue"
UNSCORED_RGB: RGB = (160 / 255, 160 / 255, 160 / 255)  # the core's viewers.UNSCORED_RGB (checked by a test)


def check_palette(name: str) -> str:
    name = (name or DEFAULT_PALETTE).strip()
    if name not in PALETTES:
        raise ValueError(f"unknown palette '{name}'; use one of {', '.join(PALETTES)}")
    return name


def symmetric_limit(values: Iterable[float]) -> float:
    """The half-width of the symmetric colour scale (the core's robust rule: 95th percentile of |value|)."""
    from saprot_scan.viewers import colour_limit

    return colour_limit(values)


def colour_scale(values: Iterable[float], summary: str = "mean"):
    """The core's colour rule (``saprot_scan.viewers.colour_scale``): robust limit, one-sided for ``min``."""
    from saprot_scan.viewers import colour_scale as core_colour_scale

    return core_colour_scale(values, summary)


def colour_for(value: float, limit, palette: str) -> RGB:
    """The colour of ``value`` on the named palette (the core's interpolation; ``limit`` a number or a
    ``ColourScale``)."""
    from saprot_scan.viewers import colour_for as core_colour_for

    return core_colour_for(value, limit, PALETTES[palette])


def pymol_colour(rgb: Sequence[float]) -> int:
    """PyMOL's direct-RGB colour index (0x40RRGGBB), usable in cmd.alter's 'color' field."""
    r, g, b = (max(0, min(255, round(c * 255))) for c in rgb)
    return 0x40000000 | (r << 16) | (g << 8) | b
