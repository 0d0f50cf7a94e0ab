"""Helpers for the batch tests: running ``saprot-scan batch`` / ``scan`` for real and reading what they wrote."""
from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
import tarfile
from pathlib import Path

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"
MODEL = "saprot-scan-default"  # the embedded default model: real ONNX Runtime scoring, no download
#: Small real structures from tests/data (one chain each unless noted; 5zng and 1k6p have two chains).
SMALL = ("1l2y", "2axd", "1gya", "4i39", "3o5r", "1aki", "5zng", "1k6p")


def env() -> dict:
    """One onnxruntime thread (identical numbers in every process; kind to a shared machine)."""
    out = dict(os.environ, SAPROT_SCAN_THREADS="1", RAY_USAGE_STATS_ENABLED="0")
    out.pop("SAPROT_SCAN_DEBUG", None)
    return out


def batch_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "saprot_scan", "batch", *map(str, args)]


def run_batch(*args, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(batch_cmd(*args), capture_output=True, text=True, env=env(), timeout=timeout)


def scan_csv(path: Path, out: Path, method: str = "wt") -> tuple[list[dict], list[dict]]:
    """``saprot-scan scan`` of one file: its substitution rows and its per-residue summary rows."""
    rows, summary = out.with_suffix(".csv"), out.with_suffix(".summary.csv")
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", "scan", str(path), "--model", MODEL, "--method",
                           method, "--no-cache", "--quiet", "--csv", str(rows), "--summary-csv", str(summary)],
                          capture_output=True, text=True, env=env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    with open(rows) as a, open(summary) as b:
        return list(csv.DictReader(a)), list(csv.DictReader(b))


def scan_error(path: Path) -> str:
    """The one line ``saprot-scan scan`` prints for a bad file (without the 'saprot-scan: error: ' prefix)."""
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", "scan", str(path), "--model", MODEL, "--quiet"],
                          capture_output=True, text=True, env=env(), timeout=600)
    assert proc.returncode == 2, proc.stderr
    return proc.stderr.strip().removeprefix("saprot-scan: error: ")


def manifest(out: Path) -> list[dict]:
    from saprot_scan.batch import read_manifest

    return read_manifest(out).to_pylist()


def table(out: Path, name: str = "scores") -> list[dict]:
    import pyarrow.dataset as ds

    folder = out / name
    if not any(folder.glob("*.parquet")):
        return []
    return ds.dataset(folder, format="parquet").to_table().to_pylist()


def by_structure(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["structure_id"], []).append(row)
    return out


def gz_tar(path: Path, members: dict[str, Path]) -> Path:
    """A tar archive like AlphaFold DB's proteome tars: gzipped structure files as members."""
    with tarfile.open(path, "w") as archive:
        for name, src in members.items():
            data = gzip.compress(src.read_bytes())
            info = tarfile.TarInfo(name)
            info.size = len(data)
            import io

            archive.addfile(info, io.BytesIO(data))
    return path
