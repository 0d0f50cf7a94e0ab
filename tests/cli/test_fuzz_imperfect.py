"""Imperfect structures never crash and are never silently changed (issue 21): a seeded fuzz campaign.

``support/imperfect_variants.py`` turns seven real structures (five mmCIF entries, two written as PDB) into
~560 imperfect ones, two seeds per source and defect family (placeholders, non-finite coordinates, missing
CB, collapsed numbering, altlocs, microheterogeneity, UNK, modified residues, CRLF, NUL bytes, truncated
gzip, wrong suffixes, FASTA...; issue 27 added files from other tools and files made to hurt: BOM, unknown
and force-field residue names, missing CA, lower-case atoms, shared auth chains, NaN B-factors, bz2/xz/zip,
zstd/tar/BinaryCIF, gzip bombs (the campaign runs with a 64 MiB cap), missing columns, bad numbers...). Each variant runs ``saprot-scan scan FILE --csv OUT`` with the offline
default scorer, and must keep the contract: exit 0 with a finite score on every row it writes, or exit 2
with exactly one stderr line and no output file; never exit 1, never a traceback or warning noise, never a
hang. Where the right answer is known the variant says so (a refusal, a note, the intact file's scores).

Design for CI on 2 cores: start-up costs ~1 s a process, so variants run through the real entry point
``saprot_scan.cli.main`` in a few worker processes that each run a list of argument vectors
(``support/cli_batch.py``, which records exit status and stderr per vector and guards each against a
hang), two at a time; a sample also runs through the real installed ``saprot-scan`` executable, one process
each. A failing test is named after its variant; ``-k <name>`` reruns just that one, and
``python tests/support/imperfect_variants.py <name> DIR`` writes the file to try by hand.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from support.imperfect_variants import SOURCES, make_variant, variant_names

SUPPORT = Path(__file__).resolve().parents[1] / "support"
VARIANTS = variant_names(per_family=2)
#: Seconds one variant may take before it counts as a hang (a 5,000-atom file scans in well under one).
HANG_LIMIT = 120
WORKERS = 2
#: One variant in this many also runs through the installed executable (a process each).
EXECUTABLE_SAMPLE = 40


def _env() -> dict:
    env = dict(os.environ, SAPROT_SCAN_THREADS="1", PYTHONWARNINGS="always", SAPROT_SCAN_MAX_STRUCTURE_MB="64")
    env.pop("SAPROT_SCAN_DEBUG", None)
    return env


def _argv(path: Path, out: Path) -> list[str]:
    return ["scan", str(path), "--csv", str(out)]


def _run_vectors(vectors: list, folder: Path, index: int) -> dict:
    request, reply = folder / f"vectors-{index}.json", folder / f"results-{index}.json"
    request.write_text(json.dumps(vectors))
    proc = subprocess.run([sys.executable, str(SUPPORT / "cli_batch.py"), str(request), str(reply), str(HANG_LIMIT)],
                          capture_output=True, text=True, env=_env(), timeout=HANG_LIMIT * (len(vectors) + 2))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(reply.read_text())


@pytest.fixture(scope="module")
def campaign(request, tmp_path_factory) -> dict:
    """Run the selected variants (and the intact sources they are compared with); name -> record."""
    selected = {item.callspec.params["name"] for item in request.session.items
                if hasattr(item, "callspec") and "name" in item.callspec.params and item.module is request.module}
    folder = tmp_path_factory.mktemp("fuzz")
    jobs = {}
    for source in SOURCES:
        from support.imperfect_variants import source_text

        path = folder / f"intact-{source}"
        path.write_text(source_text(source))
        jobs[f"intact-{source}"] = (path, folder / f"intact-{source}.csv", None)
    for name in sorted(selected):
        made = make_variant(name)
        path = folder / f"{name}{made.suffix}"
        path.write_bytes(made.data)
        jobs[name] = (path, folder / f"{name}.out.csv", made)
    names = list(jobs)
    chunks = [names[k::WORKERS * 2] for k in range(WORKERS * 2)]
    with ThreadPoolExecutor(WORKERS) as pool:
        parts = pool.map(lambda k: _run_vectors([[n, _argv(*jobs[n][:2])] for n in chunks[k]], folder, k),
                         range(len(chunks)))
    records = {}
    for part in parts:
        records.update(part)
    return {name: dict(records[name], csv=jobs[name][1], variant=jobs[name][2]) for name in names}


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def check_contract(record: dict) -> None:
    """Exit 0 with finite scores on every row, or exit 2 with one line and no file; nothing else."""
    rc, err, out = record["rc"], record["stderr"], Path(record["csv"])
    assert rc in (0, 2), f"exit {rc}: {err[-2000:]}"
    assert "Traceback" not in err and "Warning" not in err, err[-2000:]
    if rc == 2:
        lines = err.rstrip("\n").split("\n")
        assert len(lines) == 1 and lines[0].startswith("saprot-scan: error: "), err
        assert not out.exists(), "a refused input left an output file"
        assert not list(out.parent.glob(f"{out.name}*.tmp*")), "a refused input left a temporary file"
        return
    rows = _rows(out)
    assert rows, "exit 0 with a CSV without rows"
    scores = np.array([float(r["score"]) for r in rows])
    assert np.isfinite(scores).all(), "non-finite scores written"


def check_known_answer(record: dict, intact: dict) -> None:
    expect = record["variant"].expect
    if expect.exit is not None:
        assert record["rc"] == expect.exit, f"expected exit {expect.exit}, got {record['rc']}: {record['stderr']}"
    if expect.stderr_has:
        assert expect.stderr_has in record["stderr"].lower(), record["stderr"]
    if record["rc"] != 0 or not (expect.same_scores or expect.same_rows):
        return
    rows, reference = _rows(Path(record["csv"])), _rows(Path(intact["csv"]))
    assert len(rows) == len(reference), f"{len(rows)} rows, the intact file gives {len(reference)}"
    if expect.same_scores:
        assert rows == reference, "the scores differ from the intact file's"


@pytest.mark.parametrize("name", VARIANTS)
def test_variant(campaign, name):
    record = campaign[name]
    check_contract(record)
    source = name.rsplit("-", 2)[0]
    check_known_answer(record, campaign[f"intact-{source}"])


def test_intact_sources_scan(campaign):
    for source in SOURCES:
        record = campaign[f"intact-{source}"]
        assert record["rc"] == 0, record["stderr"]
        check_contract(record)


def test_missing_cb_keeps_the_disulfide_and_the_scores(campaign, tmp_path):
    """The smallest case of the issue: one cysteine's CB removed must not move the scores (ideal CB)."""
    from support.imperfect_variants import Atoms, source_text
    from saprot_scan.cli import main

    atoms = Atoms(source_text("1aki.cif"), cif=True)
    cb = next(r for r in atoms.rows if atoms.get(r, "comp") == "CYS" and atoms.get(r, "atom") == "CB")
    del atoms.lines[cb]
    path = tmp_path / "1aki-cys-no-cb.cif"
    path.write_text(atoms.text())
    assert main(_argv(path, tmp_path / "out.csv")) == 0
    got = np.array([float(r["score"]) for r in _rows(tmp_path / "out.csv")])
    want = np.array([float(r["score"]) for r in _rows(Path(campaign["intact-1aki.cif"]["csv"]))])
    assert got.shape == want.shape
    assert np.corrcoef(got, want)[0, 1] > 0.999


def test_sample_through_the_installed_executable(campaign, tmp_path):
    """Every EXECUTABLE_SAMPLE-th variant again, as a user runs it: the console script, one process each."""
    exe = shutil.which("saprot-scan", path=str(Path(sys.executable).parent)) or shutil.which("saprot-scan")
    if exe is None:
        pytest.skip("no saprot-scan executable installed beside this Python or on PATH")
    sample = [n for n in VARIANTS[::EXECUTABLE_SAMPLE] if n in campaign]
    if not sample:
        pytest.skip("none of the sampled variants was selected in this run")
    for name in sample:
        made = campaign[name]["variant"]
        path = tmp_path / f"{name}{made.suffix}"
        path.write_bytes(made.data)
        out = tmp_path / f"{name}.csv"
        proc = subprocess.run([exe, *_argv(path, out)], capture_output=True, text=True, env=_env(), timeout=HANG_LIMIT)
        record = {"rc": proc.returncode, "stderr": proc.stderr, "csv": out, "variant": made}
        check_contract(record)
        assert proc.returncode == campaign[name]["rc"], (name, proc.stderr, campaign[name]["stderr"])
