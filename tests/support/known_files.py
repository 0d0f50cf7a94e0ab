"""Known-variant files in the formats their services publish, built for the lysozyme the tests ship (1AKI chain
A = UniProt P00698 residues 19..147): the EBI Proteins API variation JSON and AlphaFold DB's AlphaMissense CSV.

The variants and numbers are drawn from a seeded generator (no downloads); the format is the services' own:
feature fields as ``/proteins/api/variation/ACC`` returns them, the CSV columns as
``AF-ACC-F1-aa-substitutions.csv`` has them, AlphaMissense's class cut-offs (LBen < 0.34 <= Amb <= 0.564 < LPath).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from support.data import reference_sequence

ACCESSION = "P00698"
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
#: UniProt position = 1AKI author number + this (the 18-residue signal peptide).
OFFSET = 18


def lysozyme_sequence() -> str:
    lines = reference_sequence(ACCESSION).read_text().splitlines()
    return "".join(line.strip() for line in lines if not line.startswith(">"))


def am_class(value: float) -> str:
    return "LBen" if value < 0.34 else "LPath" if value > 0.564 else "Amb"


def alphamissense_rows(sequence: str, seed: int = 7) -> list[tuple[str, float, str]]:
    """Every substitution of every residue, as the per-protein CSV lists them."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, wt in enumerate(sequence, start=1):
        site = rng.uniform(0, 1)
        for mt in AMINO_ACIDS:
            if mt != wt:
                value = float(np.clip(site + rng.normal(0, 0.2), 0, 1))
                rows.append((f"{wt}{i}{mt}", round(value, 4), am_class(round(value, 4))))
    return rows


def write_alphamissense(folder: Path, sequence: str, seed: int = 7) -> Path:
    path = Path(folder) / f"AF-{ACCESSION}-F1-aa-substitutions.csv"
    lines = ["protein_variant,am_pathogenicity,am_class"]
    lines += [f"{v},{p},{c}" for v, p, c in alphamissense_rows(sequence, seed)]
    path.write_text("\n".join(lines) + "\n")
    return path


def clinvar_variants(sequence: str, count: int = 30, seed: int = 11) -> list[tuple[int, str, str, str]]:
    """(UniProt position, wt, mt, significance): ``count`` labelled substitutions, most in the mature chain,
    two in the signal peptide (outside the structure)."""
    rng = np.random.default_rng(seed)
    terms = ("Pathogenic", "Likely pathogenic", "Benign", "Likely benign")
    picked, out = set(), []
    positions = [3, 10] + list(rng.choice(np.arange(OFFSET + 1, len(sequence) + 1), count - 2, replace=False))
    for position in positions:
        wt = sequence[position - 1]
        mt = rng.choice([a for a in AMINO_ACIDS if a != wt])
        if (position, mt) in picked:
            continue
        picked.add((position, mt))
        out.append((int(position), wt, str(mt), str(terms[len(out) % 4])))
    return out


def variation_json(sequence: str, variants, gnomad_every: int = 3) -> dict:
    """The Proteins API answer: entry fields, then one VARIANT feature per variant (plus a stop and a deletion,
    which are no substitutions)."""
    features = []
    for k, (position, wt, mt, significance) in enumerate(variants):
        xrefs = [{"name": "ClinVar", "id": f"RCV{100000 + k:09d}", "url": "https://www.ncbi.nlm.nih.gov/clinvar"}]
        if k % gnomad_every == 0:
            xrefs.append({"name": "gnomAD", "id": f"rs{5000 + k}", "url": "https://gnomad.broadinstitute.org"})
        features.append({
            "type": "VARIANT", "alternativeSequence": mt, "begin": str(position), "end": str(position),
            "xrefs": xrefs, "genomicLocation": [f"NC_052532.1:g.{1000 + k}A>G"],
            "locations": [{"loc": f"p.{wt}{position}{mt}", "seqId": "ENSGALT00000001", "source": "Ensembl"}],
            "codon": "AAG/AGG", "consequenceType": "missense", "wildType": wt, "mutatedType": mt,
            "predictions": [{"predictionValType": "deleterious", "predictorType": "multi coding", "score": 0.01,
                             "predAlgorithmNameType": "SIFT", "sources": ["Ensembl"]}],
            "somaticStatus": 0, "sourceType": "mixed",
            "clinicalSignificances": [{"type": significance, "sources": ["ClinVar"]}],
        })
    features.append({"type": "VARIANT", "alternativeSequence": "*", "begin": "40", "end": "40", "wildType":
                      sequence[39], "mutatedType": "*", "consequenceType": "stop gained", "xrefs": []})
    features.append({"type": "VARIANT", "alternativeSequence": "-", "begin": "50", "end": "51", "wildType":
                      sequence[49:51], "consequenceType": "inframe deletion", "xrefs": []})
    return {"accession": ACCESSION, "entryName": "LYSC_CHICK", "proteinName": "Lysozyme C", "geneName": "LYZ",
            "organismName": "Gallus gallus", "proteinExistence": "Evidence at protein level", "sequence": sequence,
            "sequenceChecksum": "0", "sequenceVersion": 1, "taxid": 9031, "features": features}


def write_variation(folder: Path, sequence: str, variants) -> Path:
    path = Path(folder) / f"{ACCESSION}.json"
    path.write_text(json.dumps(variation_json(sequence, variants)))
    return path


def build_files(folder: Path):
    """(variation JSON path, AlphaMissense CSV path, the ClinVar variants written) in ``folder``."""
    sequence = lysozyme_sequence()
    variants = clinvar_variants(sequence)
    return write_variation(folder, sequence, variants), write_alphamissense(folder, sequence), variants
