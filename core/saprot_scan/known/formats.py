"""Read known variants from a file, the format told by its content (never by its name):

- the EBI Proteins API variation JSON (``/proteins/api/variation/ACCESSION``): ``features`` of type VARIANT with
  ``begin``/``end``, ``wildType``, ``mutatedType`` or ``alternativeSequence``, ``clinicalSignificances`` and
  ``xrefs`` (ClinVar, gnomAD, ...); it carries the UniProt ``sequence`` the positions refer to;
- AlphaMissense's per-protein CSV as AlphaFold DB serves it (``AF-ACC-F1-aa-substitutions.csv``:
  ``protein_variant,am_pathogenicity,am_class``, classes LBen/Amb/LPath);
- a plain CSV ``mutant,label`` (pathogenic, benign or any other label), a lab's own list.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

from saprot_scan.encoding.tokens import AMINO_ACIDS
from saprot_scan.errors import InputError
from saprot_scan.known.variants import AM_CLASSES, KnownVariant, KnownVariants

_SINGLE = re.compile(r"^([A-Za-z])(\d+)([A-Za-z])$")
_AF_NAME = re.compile(r"AF-([A-Z0-9]{6,10})-F\d+", re.IGNORECASE)
LABEL_COLUMNS = ("label", "clinical_significance", "significance", "class")


def _text(path: Path) -> str:
    if not path.is_file():
        raise InputError(f"{path}: no such known-variants file")
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise InputError(f"{path}: cannot read it ({err})") from None
    return raw.decode("utf-8", errors="replace").lstrip("\ufeff")


def read_known(path: str | Path) -> KnownVariants:
    """The known variants in ``path`` (format told by content); one clear InputError when it is none of them."""
    path = Path(path)
    text = _text(path)
    start = text.lstrip()[:1]
    if start in "{[" and start:
        return _variation_json(path, text)
    header = next(csv.reader(io.StringIO(text.lstrip())), [])
    columns = [c.strip().lower() for c in header]
    if "protein_variant" in columns and "am_pathogenicity" in columns:
        return _alphamissense(path, text)
    if "mutant" in columns and any(c in columns for c in LABEL_COLUMNS):
        return _plain(path, text)
    raise InputError(f"{path}: not a known-variants file; expected a UniProt variation JSON, an AlphaMissense "
                     "CSV (protein_variant,am_pathogenicity,am_class) or a CSV with columns mutant,label")


def _variation_json(path: Path, text: str) -> KnownVariants:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from None
    if isinstance(data, list):  # the search endpoint's answer: a list of entries
        if len(data) != 1:
            raise InputError(f"{path}: holds {len(data)} proteins' variants; give the file of one protein")
        data = data[0]
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise InputError(f"{path}: no 'features' list; expected the EBI Proteins API variation JSON")
    known = KnownVariants(str(data.get("accession") or ""), str(data.get("sequence") or "").upper())
    name = path.name
    for feature in data["features"]:
        if not isinstance(feature, dict) or str(feature.get("type", "VARIANT")).upper() != "VARIANT":
            continue
        variant = _feature(feature, name)
        if variant is None:
            known.skipped += 1
        else:
            known.add(variant)
    known.sources.append(f"{name}: UniProt variation JSON{f' of {known.accession}' if known.accession else ''}, "
                         f"{len(known)} substitutions")
    return known


def _feature(feature: dict, source: str) -> KnownVariant | None:
    """One VARIANT feature as a single substitution; None for stops, indels and anything not one residue."""
    wt = str(feature.get("wildType") or "").upper()
    mt = str(feature.get("mutatedType") or feature.get("alternativeSequence") or "").upper()
    try:
        begin, end = int(feature.get("begin")), int(feature.get("end", feature.get("begin")))
    except (TypeError, ValueError):
        return None
    if begin != end or wt not in AMINO_ACIDS or mt not in AMINO_ACIDS or wt == mt:
        return None
    clinical = []
    for entry in feature.get("clinicalSignificances") or []:
        sources = entry.get("sources") or [] if isinstance(entry, dict) else []
        if isinstance(entry, dict) and entry.get("type") and (not sources or "ClinVar" in sources):
            clinical.extend(t.strip() for t in str(entry["type"]).split(","))
    names = [str(x.get("name", "")) for x in feature.get("xrefs") or [] if isinstance(x, dict)]
    names += [str(p.get("source", "")) for p in feature.get("populationFrequencies") or [] if isinstance(p, dict)]
    gnomad = any(n.lower().startswith("gnomad") for n in names)
    return KnownVariant(begin, wt, mt, tuple(clinical), gnomad, sources=(source,))


def _rows(path: Path, text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip()))
    reader.fieldnames = [f.strip().lower() for f in reader.fieldnames or []]
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def _alphamissense(path: Path, text: str) -> KnownVariants:
    match = _AF_NAME.search(path.name)
    known = KnownVariants(match.group(1).upper() if match else "")
    letters: dict[int, str] = {}
    for line, row in enumerate(_rows(path, text), start=2):
        parsed = _SINGLE.match(row.get("protein_variant", ""))
        try:
            value = float(row.get("am_pathogenicity", ""))
        except ValueError:
            value = None
        am_class = row.get("am_class", "")
        if parsed is None or value is None or (am_class and am_class not in AM_CLASSES):
            raise InputError(f"{path}, line {line}: expected e.g. M1A,0.35,Amb (protein_variant,am_pathogenicity,"
                             "am_class with class LBen, Amb or LPath)")
        wt, number, mt = parsed.group(1).upper(), int(parsed.group(2)), parsed.group(3).upper()
        letters[number] = wt
        known.add(KnownVariant(number, wt, mt, am_pathogenicity=value, am_class=am_class, sources=(path.name,)))
    if letters:  # every substitution of every residue: the wild types spell the sequence
        known.sequence = "".join(letters.get(i, "X") for i in range(1, max(letters) + 1))
    known.sources.append(f"{path.name}: AlphaMissense CSV{f' of {known.accession}' if known.accession else ''}, "
                         f"{len(known)} substitutions")
    return known


def _plain(path: Path, text: str) -> KnownVariants:
    known = KnownVariants()
    for line, row in enumerate(_rows(path, text), start=2):
        label = next((row[c] for c in LABEL_COLUMNS if row.get(c)), "")
        mutant = row.get("mutant", "").replace("p.", "")
        parsed = _SINGLE.match(mutant)
        if not mutant:
            continue
        if parsed is None:
            if ":" in mutant or not mutant[:1].isalpha():
                known.skipped += 1
                continue
            raise InputError(f"{path}, line {line}: bad mutant {row.get('mutant')!r}; expected e.g. A23G")
        wt, number, mt = parsed.group(1).upper(), int(parsed.group(2)), parsed.group(3).upper()
        if wt not in AMINO_ACIDS or mt not in AMINO_ACIDS:
            raise InputError(f"{path}, line {line}: bad mutant {row.get('mutant')!r}; expected e.g. A23G")
        known.add(KnownVariant(number, wt, mt, (label,) if label else (), sources=(path.name,)))
    known.sources.append(f"{path.name}: labelled CSV, {len(known)} substitutions")
    return known
