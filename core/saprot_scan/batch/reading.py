"""Reading one structure back out of a batch output folder as ``ScanResult`` objects (one per chain), so a
viewer or a script can colour or inspect it without scoring again."""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from saprot_scan.batch.store import RESIDUES, SCORES, is_part_name, read_manifest, require_pyarrow
from saprot_scan.batch.work import KNOWN_COLUMNS
from saprot_scan.errors import InputError

_LABEL = re.compile(r"^(-?\d+)(.*)$")


def _choose(rows: list[dict], structure_id: str, out: Path, model, method, precision) -> dict:
    every = [r for r in rows if r["structure_id"] == structure_id]
    if not every:
        raise InputError(f"{structure_id}: not in the batch output {out}")
    ok = [r for r in every if r["status"] == "ok"
          and (model is None or model in (r["model"], r["model_sha256"]))
          and (method is None or r["method"] == method) and (precision is None or r["precision"] == precision)]
    if not ok:
        why = "; ".join(f"{r['status']} ({r['model']}, {r['method']}): {r['reason']}" for r in every)
        raise InputError(f"{structure_id}: no scores in {out} for that choice ({why})")
    if len({(r["model_sha256"], r["method"], r["precision"]) for r in ok}) > 1:
        choices = ", ".join(sorted(f"{r['model']}/{r['method']}/{r['precision']}" for r in ok))
        raise InputError(f"{structure_id}: scored more than once in {out} ({choices}); say which model/method")
    return ok[0]


def _meaning(row: dict, out: Path):
    """What the stored scores mean: the manifest's record of it, or (a folder written before it was recorded)
    the meaning of the scorer the model name names; never a guess."""
    import json

    from saprot_scan.scoring.meaning import ScoreMeaning, meaning_of_named

    text = row.get("score_meaning")
    if text:
        try:
            return ScoreMeaning.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError):
            raise InputError(f"{out}: the manifest's score meaning for {row['structure_id']} is damaged") from None
    found = meaning_of_named(row["model"])
    if found is None:
        raise InputError(f"{out}: written before batch folders recorded what their scores mean, by model "
                         f"{row['model']!r}, which this installation does not know; score it again to read it")
    return found


def load_results(out_dir: str | os.PathLike, structure_id: str, model: str | None = None,
                 method: str | None = None, precision: str | None = None) -> list:
    """The chains of ``structure_id`` as batch scored them: ``ScanResult`` per chain, in chain order.

    ``model`` (name or sha256), ``method`` and ``precision`` pick one result when the folder holds several.
    """
    require_pyarrow()
    import pyarrow.dataset as ds

    import saprot_scan as ss

    out = Path(out_dir)
    if not (out / SCORES).is_dir():
        raise InputError(f"{out}: not a saprot-scan batch output folder (no {SCORES}/)")
    row = _choose(read_manifest(out).to_pylist(), structure_id, out, model, method, precision)
    meaning = _meaning(row, out)
    part = row["part"]
    if not is_part_name(part):  # a planted manifest must not make us read a Parquet file outside the folder
        raise InputError(f"{structure_id}: the manifest of {out} names the part {part!r}, not a file of its "
                         f"{SCORES}/ folder; refused")
    for folder in (SCORES, RESIDUES):
        if (out / folder).is_symlink():
            raise InputError(f"{out}: {folder}/ is a symbolic link; a batch folder keeps its parts inside itself")
    wanted = ((ds.field("structure_id") == structure_id) & (ds.field("method") == row["method"])
              & (ds.field("precision") == row["precision"]) & (ds.field("model") == row["model"]))
    residues = ds.dataset(out / RESIDUES / part, format="parquet").to_table(filter=wanted).to_pylist()
    dataset = ds.dataset(out / SCORES / part, format="parquet")
    known_columns = [c for c in KNOWN_COLUMNS if c in dataset.schema.names]
    scores = dataset.to_table(columns=["chain", "position", "mt", "score", *known_columns], filter=wanted).to_pydict()
    chains: dict[str, list[dict]] = {}
    for r in residues:
        chains.setdefault(r["chain"], []).append(r)
    results = []
    index = {}
    for chain_id, rows in chains.items():
        rows.sort(key=lambda r: r["position"])
        ids = []
        for r in rows:
            number, icode = _LABEL.match(r["residue"]).groups()
            ids.append(ss.ResidueId(chain_id, int(number), icode))
        wt = "".join(r["wt"] for r in rows)
        matrix = np.full((len(rows), 20), np.nan)
        for i, aa in enumerate(wt):
            if aa in ss.AMINO_ACIDS:
                matrix[i, ss.AMINO_ACIDS.index(aa)] = 0.0
        index[chain_id] = matrix
        results.append(ss.ScanResult(chain_id=chain_id, residue_ids=tuple(ids), wt=wt, scores=matrix,
                                     method=row["method"], model_name=row["model"], model_sha256=row["model_sha256"],
                                     source=row["source"], notes=[f"read from the batch output {out}"],
                                     meaning=meaning,
                                     interface=tuple(bool(r["interface"]) for r in rows)
                                     if all(r.get("interface") is not None for r in rows) else ()))
    column = {aa: k for k, aa in enumerate(ss.AMINO_ACIDS)}
    for chain_id, position, mt, score in zip(scores["chain"], scores["position"], scores["mt"], scores["score"]):
        index[chain_id][position - 1, column[mt]] = score
    if known_columns:
        results = _with_known(results, scores, known_columns, row, out)
    return results


def _with_known(results: list, scores: dict, columns: list[str], row: dict, out: Path) -> list:
    """The chains with the known variants the batch placed on them (stored beside each substitution's score),
    so a report or a viewer reading the folder shows the marks and the agreement the run printed."""
    import json
    from dataclasses import replace

    from saprot_scan.known.mapping import reloaded_block

    try:
        accession = str(json.loads(row.get("known") or "{}").get("accession") or "")
    except (ValueError, AttributeError):
        accession = ""
    marks: dict[str, dict] = {}
    for n, (chain_id, position, mt) in enumerate(zip(scores["chain"], scores["position"], scores["mt"])):
        values = {c: scores[c][n] for c in columns}
        if any(v is not None and v != "" for v in values.values()):
            marks.setdefault(chain_id, {})[(position, mt)] = values
    return [replace(r, known=reloaded_block(r, marks.get(r.chain_id, {}), accession, f"the batch folder {out.name}"))
            for r in results]
