"""What every viewer front end shares, so PyMOL and ChimeraX (and any new viewer) show the same thing:
the same residue gets the same number and the same colour.

A viewer reads its atoms into ``chain_from_viewer`` (with what the structure's header says: AlphaFold,
an experimental method), scores through a ``ModelPool`` (each scorer loaded once per session), picks a
summary with ``check_summary``, colours ``colour_for(value, colour_scale(values, summary))`` on a diverging
palette (robust limit: the 95th percentile of |value|; one-sided for ``min``), shows a key of that scale,
greys unscored residues ``UNSCORED_RGB``, marks ``plddt_masked`` residues, and lists models with
``model_choices``.
It only has to read atoms, paint and register its commands.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from saprot_scan.backends.base import DEVICES, PRECISIONS, Scorer  # noqa: F401 (re-exported for viewers)
from saprot_scan.encoding.structure import Chain, chain_from_arrays
from saprot_scan.outputs import HEATMAP_SUFFIXES, UNSCORED_HEX  # noqa: F401
from saprot_scan.results import SUMMARIES, check_summary  # noqa: F401
from saprot_scan.scoring.marginals import METHODS  # noqa: F401

RGB = tuple[float, float, float]

#: Residues without a score (unknown wild type, outside the scored chain): one grey everywhere.
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


#: The per-residue number a design view stores (PyMOL: saprot_native(model, chain, resi); ChimeraX: an attribute).
NATIVE_ATTR = "saprot_native"


def native_fit(p_native) -> np.ndarray:
    """How well each native amino acid fits the structure, as the design view colours it: log(20 P(native)),
    natural log, so 0 (white) is a uniform guess over 20 amino acids, above 0 the structure favours the native
    residue, below 0 it disfavours it; NaN (grey) where the native residue is unknown."""
    p = np.asarray(p_native, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(20.0 * p)


def design_note(model) -> str:
    """The line every design view logs about its model: a SaProt model gives far better designs."""
    from saprot_scan.design.inverse_folding import DEFAULT_MODEL_NOTE
    from saprot_scan.models.registry import embedded_model

    default = embedded_model()
    if default is not None and getattr(model, "sha256", None) == default.sha256:
        return f"note: {DEFAULT_MODEL_NOTE}"
    return ("note: designs are only as good as the model: a SaProt model (saprot-35m, saprot-650m) gives far "
            "better designs than the embedded default")


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


def chain_from_viewer(chain_id: str, res_numbers: Sequence[int], icodes: Sequence[str], res_names: Sequence[str],
                      atom_names: Sequence[str], coords, b_factors: Sequence[float], source: str,
                      alphafold: bool = False, experimental_method: str = "") -> Chain:
    """A Chain from a viewer's per-atom arrays plus what its header says, so the pLDDT rule decides as it would
    for the file: ``alphafold`` when the structure mentions AlphaFold, ``experimental_method`` as declared
    (EXPDTA / _exptl.method; then B-factors are never read as pLDDT)."""
    chain = chain_from_arrays(chain_id, res_numbers, icodes, res_names, atom_names, np.asarray(coords, dtype=float),
                              b_factors, source=source, alphafold_text=alphafold)
    chain.experimental_method = experimental_method or ""
    return chain


def header_says_alphafold(*texts: str) -> bool:
    """SaProt's own test for a predicted structure: "alphafold" anywhere in the file's text or name."""
    return any("alphafold" in str(text).lower() for text in texts)


class ModelPool:
    """Scorers loaded once and reused for the session (creating an ONNX session is the slow part); thread-safe."""

    def __init__(self):
        self._scorers: dict[tuple[str, str], Scorer] = {}
        self._lock = threading.Lock()

    def get(self, spec: str | None, device: str = "auto") -> Scorer:
        """The scorer for ``spec`` (None or "" = the default order) on ``device``, loading it the first time."""
        from saprot_scan.backends.base import load_scorer

        key = (str(spec or ""), device)
        with self._lock:
            if key not in self._scorers:
                self._scorers[key] = load_scorer(spec or None, device=device)
            return self._scorers[key]

    def clear(self) -> None:
        """Forget every loaded scorer (after the default changed, or a model was fetched)."""
        with self._lock:
            self._scorers.clear()


#: The pool viewers share inside one process.
MODEL_POOL = ModelPool()


def model_choices() -> list[tuple[str, str]]:
    """(label, spec) pairs for a model menu: the default order, the embedded default, the registry models."""
    from saprot_scan.backends.base import OFFLINE_DEFAULT
    from saprot_scan.models.registry import model_list

    choices = [("(automatic)", "")]
    built_in = []
    for row in model_list():
        if row.kind == "built-in":
            role = "structure-based offline default" if row.name == OFFLINE_DEFAULT else "structure-based"
            built_in.append((row.name != OFFLINE_DEFAULT, (f"{row.name} ({role}, not SaProt)", row.name)))
        elif row.kind == "embedded":
            choices.append(("saprot-scan-default (small embedded language model, not SaProt)", "default"))
        else:
            choices.append((f"{row.name} ({'cached' if row.available else 'not cached: Fetch'})", row.name))
    choices[1:1] = [choice for _, choice in sorted(built_in, key=lambda item: item[0])]
    return choices


def save_model_choice(spec: str | None) -> None:
    """Make ``spec`` the default model for the CLI and both viewers (None or "" forgets the choice)."""
    from saprot_scan.settings import save_preference

    save_preference(spec or None)
    MODEL_POOL.clear()
