"""The one colour rule of saprot-scan: the heatmap (``outputs.heatmap``) and every viewer (``viewers``) colour
the same number the same way, from here. Both sides import this module; it imports nothing of the core.

A diverging palette (red = damaging, white = 0, blue = tolerated) over a robust limit (the 95th percentile
of |value|), one-sided for the ``min`` summary; unscored cells and residues one grey; SaProt's pLDDT-masked
residues marked.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

RGB = tuple[float, float, float]

#: Cells and residues without a score (unknown wild type, outside the scored chain): one grey everywhere.
UNSCORED_HEX = "#a0a0a0"
UNSCORED_RGB8 = (160, 160, 160)
UNSCORED_RGB: RGB = tuple(c / 255.0 for c in UNSCORED_RGB8)  # type: ignore[assignment]
#: The default diverging palette (ColorBrewer RdBu ends): damaging, 0, tolerated.
INTOLERANT_HEX, CENTRE_HEX, TOLERATED_HEX = "#b2182b", "#ffffff", "#2166ac"


#: The colour limit ignores the most extreme 5% of |values|, so one outlier residue cannot wash the rest out.
LIMIT_PERCENTILE = 95.0
#: pLDDT-masked positions: ``ScanResult.struct`` carries this 3Di letter there (SaProt's low-confidence mask).
MASKED_3DI = "#"


def _finite(values: Iterable[float]) -> np.ndarray:
    out = []
    for v in values:
        if v is None:
            continue
        v = float(v)
        if math.isfinite(v):
            out.append(v)
    return np.asarray(out, dtype=float)


def colour_limit(values: Iterable[float]) -> float:
    """The size of the colour scale: the 95th percentile of |value| over the coloured numbers, rounded up to
    a half unit, at least 0.5; 1.0 when nothing is scored.

    A percentile rather than the largest |value|: with the maximum, one residue at -12 turns every other
    residue (scores around -1..-3) pale pink. Values beyond the limit clip to the end colour of the palette.
    numpy's default (linear) percentile: from about 20 numbers on, a single outlier no longer sets the limit;
    below that the limit stays near the largest values, so tiny selections are not clipped."""
    finite = np.abs(_finite(values))
    if finite.size == 0:
        return 1.0
    return max(0.5, math.ceil(float(np.percentile(finite, LIMIT_PERCENTILE)) * 2) / 2)


@dataclass(frozen=True)
class ColourScale:
    """Where the palette's three colours sit: ``low`` (intolerant end), ``centre``, ``high`` (tolerated end)."""

    low: float
    centre: float
    high: float

    @property
    def one_sided(self) -> bool:
        return self.centre != 0.0

    def fraction(self, value: float) -> float:
        """-1 at (or below) ``low``, 0 at ``centre``, +1 at (or above) ``high``."""
        if value < self.centre:
            t = (value - self.centre) / (self.centre - self.low)
        else:
            t = (value - self.centre) / (self.high - self.centre)
        return max(-1.0, min(1.0, t))

    def stops(self) -> tuple[float, float, float]:
        return (self.low, self.centre, self.high)

    def describe(self) -> str:
        """For logs: ``"-2.5 to 2.5, white at 0"`` (values beyond clip to the end colours)."""
        return f"{self.low:g} to {self.high:g}, white at {self.centre:g}"


def colour_scale(values: Iterable[float], summary: str = "mean") -> ColourScale:
    """The one colour rule every viewer and the heatmap use, with ``limit = colour_limit(values)``.

    - signed summaries (``mean``, ``max``, one amino acid, and substitution scores in the heatmap): symmetric,
      ``-limit .. 0 .. +limit``, so white is always "as likely as the wild type";
    - ``min`` (the worst substitution at each residue, <= 0 almost everywhere): one-sided, ``-limit .. 0``
      spread over the whole palette (centre colour at ``-limit/2``). A symmetric scale would leave the
      tolerated half of the palette unused and squeeze every residue into red..white; one-sided, the
      residues whose worst substitution is harmless (near 0) take the tolerated colour. The colour key shows
      the numbers, so the shifted centre is visible. Positive minima clip to the tolerated end.
    """
    limit = colour_limit(values)
    if str(summary).strip().lower() == "min":
        return ColourScale(-limit, -limit / 2, 0.0)
    return ColourScale(-limit, 0.0, limit)


def hex_rgb(code: str) -> RGB:
    """``"#rrggbb"`` -> (r, g, b) in 0..1."""
    return tuple(int(code[i:i + 2], 16) / 255.0 for i in (1, 3, 5))  # type: ignore[return-value]


def colour_for(value: float, limit: "float | ColourScale", palette: Sequence[RGB] | None = None) -> RGB:
    """The colour of ``value`` on a (low, centre, high) palette: over ``-limit..+limit`` for a number, over
    the scale's stops for a ``ColourScale``; values beyond clip to the end colours; grey when not finite."""
    if value is None or not math.isfinite(value):
        return UNSCORED_RGB
    scale = limit if isinstance(limit, ColourScale) else ColourScale(-float(limit), 0.0, float(limit))
    low, mid, high = palette or (hex_rgb(INTOLERANT_HEX), hex_rgb(CENTRE_HEX), hex_rgb(TOLERATED_HEX))
    t = scale.fraction(float(value))
    end = low if t < 0 else high
    t = abs(t)
    return tuple(m + (e - m) * t for m, e in zip(mid, end))  # type: ignore[return-value]


def plddt_masked(result) -> list[bool]:
    """Per residue of a ScanResult: True where SaProt's pLDDT mask replaced the structure token (``#``)."""
    struct = getattr(result, "struct", "") or ""
    return [i < len(struct) and struct[i] == MASKED_3DI for i in range(len(result.residue_ids))]

