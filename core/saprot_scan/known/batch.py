"""Known variants in ``saprot-scan batch``: each structure's accession (``--accessions`` map, else what the file
names), its known variants (files in ``--known-dir`` named by accession, else fetched with ``--uniprot``),
placed on every chain by each worker; the substitution rows gain the known columns and the manifest row the
structure's agreement (JSON text in its ``known`` column)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from saprot_scan.errors import InputError


@dataclass(frozen=True)
class KnownOptions:
    """What a worker needs to find each structure's known variants (picklable for worker processes and Ray)."""

    fetch: bool = False  # --uniprot: fetch what --known-dir does not hold
    folder: str | None = None  # --known-dir: files whose names contain the accession
    accessions: tuple[tuple[str, str], ...] = ()  # --accessions: (structure id, accession)

    def accession(self, structure_id: str, path: str, chain: str | None = None) -> str:
        from saprot_scan.known.accession import accession_of

        given = dict(self.accessions).get(structure_id)
        return given or accession_of(path, chain)


def read_accessions(path: str | None) -> tuple[tuple[str, str], ...]:
    """``structure_id,accession`` rows of a CSV (header row optional)."""
    if not path:
        return ()
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such accessions file")
    pairs = []
    for row in csv.reader(file.read_text(errors="replace").splitlines()):
        if len(row) >= 2 and row[0].strip() and row[0].strip().lower() != "structure_id":
            pairs.append((row[0].strip(), row[1].strip().upper()))
    if not pairs:
        raise InputError(f"{file}: no structure_id,accession rows")
    return tuple(pairs)


class KnownSource:
    """One worker's known variants by accession, read or fetched once each."""

    def __init__(self, options: KnownOptions):
        self.options = options
        self._memo: dict[str, object] = {}

    def variants(self, accession: str):
        from saprot_scan.known import combine, read_known
        from saprot_scan.known.fetch import fetch_known

        if accession not in self._memo:
            files = sorted(p for p in Path(self.options.folder).iterdir() if accession in p.name.upper()) \
                if self.options.folder else []
            if files:
                self._memo[accession] = combine([read_known(p) for p in files])
            elif self.options.fetch:
                self._memo[accession] = fetch_known(accession, lambda text: None)
            else:
                raise InputError(f"no known-variant files for {accession} in {self.options.folder}")
        return self._memo[accession]

    def accession(self, structure_id: str, path: str) -> str:
        """The UniProt accession of a structure: given in the accessions file, or named by the file itself."""
        return self.options.accession(structure_id, path)

    def place(self, accession: str, chains, results) -> tuple[list, str]:
        """The results with their known variants, and the manifest's ``known`` text (JSON: accession and each
        chain's agreement, or why there is none). A structure without an accession is scored without them."""
        from dataclasses import replace

        from saprot_scan.known import align_known, attach

        if not accession:
            return list(results), json.dumps({"accession": "", "reason": "the file names no UniProt accession"})
        try:
            known = replace(self.variants(accession), accession=accession)
        except InputError as err:  # scored all the same; the manifest says why nothing is known
            return list(results), json.dumps({"accession": accession, "reason": str(err)})
        placed, summary = [], {}
        for chain, result in zip(chains, results):
            try:
                result = attach(result, known, align_known(chain, known))
            except InputError as err:  # another protein in the same file: its chain goes without
                summary[chain.chain_id] = {"reason": str(err)}
            else:
                agreement = result.known["agreement"]
                summary[chain.chain_id] = {"roc_auc": agreement["roc_auc"]["value"],
                                           "spearman": agreement["spearman"]["value"], "line": agreement["line"]}
            placed.append(result)
        return placed, json.dumps({"accession": accession, "chains": summary})
