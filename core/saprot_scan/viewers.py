"""What every viewer front end shares, so PyMOL and ChimeraX (and any new viewer) show the same thing:
the same residue gets the same number and the same colour.

A viewer reads its atoms into ``chain_from_viewer`` (with what the structure's header says: AlphaFold,
an experimental method), scores through a ``ModelPool`` (each scorer loaded once per session), picks a
summary with ``check_summary``, colours ``colour_for(value, colour_scale(values, summary))`` on a diverging
palette (the rule lives in ``saprot_scan.colours``, shared with the heatmap), shows a key of that scale,
greys unscored residues ``UNSCORED_RGB``, marks ``plddt_masked`` residues, and lists models with
``model_choices``.
It only has to read atoms, paint and register its commands.
"""
from __future__ import annotations

import threading
from typing import Sequence

import numpy as np

from saprot_scan.backends.base import DEVICES, PRECISIONS, Scorer  # noqa: F401 (re-exported for viewers)
from saprot_scan.colours import (CENTRE_HEX, INTOLERANT_HEX, LIMIT_PERCENTILE, MASKED_3DI, RGB,  # noqa: F401
                                 TOLERATED_HEX, UNSCORED_HEX, UNSCORED_RGB, UNSCORED_RGB8, ColourScale, colour_for,
                                 colour_limit, colour_scale, hex_rgb, plddt_masked)
from saprot_scan.design.suggest import heading as suggestion_heading, unmeasured_note  # noqa: F401
from saprot_scan.encoding.structure import Chain, chain_from_arrays
from saprot_scan.outputs.suffixes import HEATMAP_SUFFIXES  # noqa: F401
from saprot_scan.results import SUMMARIES, check_summary  # noqa: F401
from saprot_scan.scoring.marginals import METHODS  # noqa: F401

#: The per-residue number a design view stores (PyMOL: saprot_native(model, chain, resi); ChimeraX: an attribute).
NATIVE_ATTR = "saprot_native"
#: The per-residue percentile summary both viewers store beside the score (same summary, over percentiles).
PERCENTILE_ATTR = "saprot_percentile"
#: The selection / name both viewers give the residues a fitted model had no assay label for.
UNMEASURED_NAME = "saprot_unmeasured"
#: The selection / selector both viewers give residues with an atom within 5 A of another chain of the structure.
INTERFACE_NAME = "saprot_interface"


def score_words(result) -> str:
    """What the numbers are and what their sign says, from the result's declared meaning (never hard-coded)."""
    return result.meaning.describe()


def substitution_rows(result, index: int) -> list[tuple[str, float, float, str]]:
    """The 19 substitutions of row ``index``, most tolerated first: (mutant letter, score, percentile within the
    chain, class), so both viewers list the same four things."""
    from saprot_scan.encoding.tokens import AMINO_ACIDS
    from saprot_scan.scoring.percentiles import class_of

    ranks = result.percentiles()[index]
    return [(mt, score, float(ranks[AMINO_ACIDS.index(mt)]), class_of(ranks[AMINO_ACIDS.index(mt)]))
            for mt, score in result.substitutions(index)]


def classes_line() -> str:
    """The classes' cut-offs and measured precision, one line for viewer summaries (from class_precision.json)."""
    from saprot_scan.scoring.percentiles import precision_text

    return "classes: " + precision_text(short=True)


def unmeasured_labels(result) -> list[str]:
    """Author labels of the residues a fitted model had no assay label for ([] when not fitted or not known)."""
    if not result.measured:
        return []
    return [rid.label for rid, flag in zip(result.residue_ids, result.measured) if not flag]


def interface_labels(result) -> list[str]:
    """Author labels of the residues touching another chain ([] when no other chain was read)."""
    return [rid.label for rid, flag in zip(result.residue_ids, result.interface or ()) if flag]


def one_chain_note(results) -> str:
    """What the scores of chains touching other chains saw, in the results' own words (``partners_seen``)."""
    return "; ".join(dict.fromkeys(r.partners_seen() for r in results if r.interface))


def with_partners(chain: Chain, others: Sequence[Chain], partners: bool = True) -> Chain:
    """``chain`` marked with its interface with ``others`` (the structure's other protein chains) and, with
    ``partners``, given them as context for the structure scorers (as ``--partner-context on`` does)."""
    from saprot_scan.encoding.contacts import attach_context

    attach_context([chain], [chain, *others], partners)
    return chain


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


def chain_from_viewer(chain_id: str, res_numbers: Sequence[int], icodes: Sequence[str], res_names: Sequence[str],
                      atom_names: Sequence[str], coords, b_factors: Sequence[float], source: str,
                      alphafold: bool = False, experimental_method: str = "",
                      altlocs: Sequence[str] | None = None, hetero: Sequence[bool] | None = None) -> Chain:
    """A Chain from a viewer's per-atom arrays plus what its header says, so the pLDDT rule decides as it would
    for the file: ``alphafold`` when the structure mentions AlphaFold, ``experimental_method`` as declared
    (EXPDTA / _exptl.method; then B-factors are never read as pLDDT). ``altlocs``: each atom's alternate
    location id when the viewer holds several (PyMOL), so they are not taken for residues sharing a number.
    ``hetero``: each atom's HETATM flag where the viewer keeps it (PyMOL), so a ligand is skipped as the file
    reader skips it; without it, an unknown residue name with a backbone is kept as context."""
    chain = chain_from_arrays(chain_id, res_numbers, icodes, res_names, atom_names, np.asarray(coords, dtype=float),
                              b_factors, source=source, alphafold_text=alphafold, altlocs=altlocs,
                              hetero=hetero)
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
            missing = "not cached: Fetch" if row.fetchable else "not cached: saprot-scan models import"
            choices.append((f"{row.name} ({'cached' if row.available else missing})", row.name))
    choices[1:1] = [choice for _, choice in sorted(built_in, key=lambda item: item[0])]
    return choices


def model_label(spec: str | None) -> str:
    """What will score ``spec``, for a viewer's first log line, checked fast (no hashing, no ONNX session): a
    named model that cannot load fails here (``ModelError``); None says the default and why, with the
    saved preference's note when that preference cannot load (the scan then uses the default, as the CLI does)."""
    from saprot_scan.backends.base import checked_preference, default_model_line

    if not spec or not str(spec).strip():
        return default_model_line()
    checked_preference(str(spec).strip())
    return str(spec).strip()


def save_model_choice(spec: str | None) -> str | None:
    """Make ``spec`` the default model for the CLI and both viewers (None or "" forgets the choice) and return
    what was saved. A model that cannot load now (not cached, a missing file) is refused with ``ModelError``
    and nothing is saved: the saved choice is the default of every later scan."""
    from saprot_scan.backends.base import checked_preference
    from saprot_scan.settings import save_preference

    saved = checked_preference(str(spec).strip()) if spec and str(spec).strip() else None
    save_preference(saved)
    MODEL_POOL.clear()
    return saved


#: Selection (PyMOL) / selector and attribute (ChimeraX) names of residues with known variants of each kind:
#: name -> what ``saprot_scan.known.residues_with`` picks (ClinVar label, gnomAD, AlphaMissense class).
KNOWN_NAMES = {"saprot_known_pathogenic": "pathogenic", "saprot_known_benign": "benign",
               "saprot_known_gnomad": "gnomad", "saprot_am_pathogenic": "LPath", "saprot_am_ambiguous": "Amb",
               "saprot_am_benign": "LBen"}


def read_known_variants(files: Sequence[str] = (), uniprot: str = "", report=None):
    """Known variants from files (format told by content) and/or fetched by UniProt accession (cached);
    ``report`` receives the fetch's stage lines. InputError (one line) on a bad file or accession."""
    from saprot_scan.errors import InputError
    from saprot_scan.known import combine, read_known
    from saprot_scan.known.fetch import fetch_known

    parts = [read_known(path) for path in files if str(path).strip()]
    if str(uniprot or "").strip():
        parts.append(fetch_known(str(uniprot).strip(), report or (lambda text: None)))
    if not parts:
        raise InputError("no known variants given: name files (UniProt variation JSON, AlphaMissense CSV, "
                         "mutant,label CSV) or a UniProt accession")
    return combine(parts)


def with_known(result, known, reference: str = ""):
    """``result`` (a whole-chain scan) carrying ``known`` placed through an alignment of its sequence to the
    known sequence (or to the FASTA ``reference``); its mapping and agreement lines come with it
    (``result.known["mapping"]["text"]``, ``result.known["agreement"]["line"]``)."""
    from types import SimpleNamespace

    from saprot_scan.conventions.reference import read_reference
    from saprot_scan.known import align_known, attach

    chain = SimpleNamespace(chain_id=result.chain_id, sequence=result.wt)
    alignment = align_known(chain, known, read_reference(reference) if reference else None)
    return attach(result, known, alignment)


def known_lines(result) -> list[str]:
    """What a viewer logs after placing known variants: the mapping line, then the agreement line."""
    from saprot_scan.known import mapping_line

    if not result.known:
        return []
    return [mapping_line(result.known, result.chain_id), result.known["agreement"]["line"]]


def known_residues(result, name: str) -> list[str]:
    """Author labels of ``result``'s residues in the KNOWN_NAMES selection ``name``."""
    from saprot_scan.known import residues_with

    return residues_with(result.known, KNOWN_NAMES[name])


#: Per-residue numbers both viewers can store (ChimeraX residue attributes): ClinVar pathogenic/likely pathogenic
#: and benign/likely benign variants at the residue, and AlphaMissense's mean pathogenicity over its substitutions.
KNOWN_ATTRS = ("saprot_known_pathogenic", "saprot_known_benign", "saprot_am_pathogenicity")


def known_residue_values(result) -> dict[str, np.ndarray]:
    """KNOWN_ATTRS -> one value per row of ``result`` (counts 0 where nothing is known; NaN where AlphaMissense
    scored nothing)."""
    rows = {result.position(i): i for i in range(len(result))}
    sick, fine = np.zeros(len(result)), np.zeros(len(result))
    am_sum, am_count = np.zeros(len(result)), np.zeros(len(result))
    for v in (result.known or {}).get("variants", []):
        i = rows.get(v["position"])
        if i is None:
            continue
        sick[i] += v["label"] == "pathogenic"
        fine[i] += v["label"] == "benign"
        if v["am_pathogenicity"] is not None:
            am_sum[i] += v["am_pathogenicity"]
            am_count[i] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        am = np.where(am_count > 0, am_sum / np.maximum(am_count, 1), np.nan)
    return dict(zip(KNOWN_ATTRS, (sick, fine, am)))
