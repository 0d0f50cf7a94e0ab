"""Batch scoring: many structures, local worker processes or a Ray cluster, Parquet out, resumable.

``saprot-scan batch INPUT... --out DIR`` (``saprot_scan.cli.batch``) runs ``run_batch``. The pieces:

- ``inputs``: files, folders, glob patterns, list files and tar archives (members read in place) -> ``Source``
- ``work``: one worker (a scorer loaded once; identical chains scored once) -> ``Outcome`` per structure
- ``local`` / ``ray_engine``: the engines that run workers (``--engine local|ray``)
- ``store``: the output folder (``scores/``, ``residues/``, ``manifest.parquet``), atomic parts, resume
- ``progress``: a bar on a terminal, plain lines in logs
- ``reading``: one structure's results back as ``ScanResult`` objects (``load_results``), for viewers and scripts

Needs pyarrow (``pip install 'saprot-scan[batch]'``); the Ray engine needs ``saprot-scan[ray]``.
"""
from saprot_scan.batch.inputs import discover, structure_id
from saprot_scan.batch.reading import load_results
from saprot_scan.batch.runner import ENGINES, BatchReport, run_batch
from saprot_scan.batch.store import read_manifest
from saprot_scan.batch.work import ScoreOptions

__all__ = ["ENGINES", "BatchReport", "ScoreOptions", "discover", "load_results", "read_manifest", "run_batch",
           "structure_id"]
