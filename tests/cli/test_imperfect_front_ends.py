"""Issue 21, item 5: tokens, scan, score and batch treat an imperfect structure the same way.

A non-finite coordinate is one line and exit 2 everywhere (``tokens`` used to print 'd'-filled 3Di strings
where ``scan`` crashed), a batch makes it one failed manifest row with scan's own reason, and a truncated
side chain scores in every command as in ``scan``. The files are made from 1AKI by the fuzz suite's mutator.
"""
from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from support import batch_runs as br
from support.imperfect_variants import Atoms, source_text


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "saprot_scan", *map(str, args)], capture_output=True, text=True,
                          env=br.env(), timeout=300)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("saprot-scan: error: "), proc.stderr
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("imperfect")
    out = {}
    atoms = Atoms(source_text("1aki.cif"), cif=True)
    ca = next(r for r in atoms.rows if atoms.get(r, "seq") == "30" and atoms.get(r, "atom") == "CA")
    atoms.set(ca, "x", "nan")
    out["nan"] = root / "nan.cif"
    out["nan"].write_text(atoms.text())
    atoms = Atoms(source_text("1aki.cif"), cif=True)
    cb = next(r for r in atoms.rows if atoms.get(r, "seq") == "6" and atoms.get(r, "atom") == "CB")
    del atoms.lines[cb]
    out["no_cb"] = root / "no-cb.cif"
    out["no_cb"].write_text(atoms.text())
    atoms = Atoms(source_text("1aki.cif"), cif=True)
    for row in atoms.rows:
        atoms.set(row, "comp", "UNK")
    out["unk"] = root / "unk.cif"
    out["unk"].write_text(atoms.text())
    out["root"] = root
    return out


@pytest.mark.parametrize("command", [["tokens"], ["scan", "--csv", "{out}"], ["score", "--mutations", "C30A"]])
def test_non_finite_coordinate_is_the_same_line_in_every_command(files, command):
    out = files["root"] / f"{command[0]}.csv"
    proc = run(command[0], files["nan"], *[a.format(out=out) for a in command[1:]])
    line = one_error_line(proc)
    assert "chain A residue 30 (CYS) atom CA has coordinates nan" in line
    assert not out.exists() and not proc.stdout


def test_all_unknown_is_the_same_line_in_every_command(files):
    lines = {one_error_line(run(cmd, files["unk"], *extra)) for cmd, extra in
             (("tokens", ()), ("scan", ("--csv", files["root"] / "u.csv")), ("score", ("--mutations", "X1A")))}
    assert len(lines) == 1 and "no scorable residue" in lines.pop()


def test_score_of_a_truncated_side_chain_equals_scan(files):
    out = files["root"] / "no-cb.csv"
    assert run("scan", files["no_cb"], "--csv", out, "--quiet").returncode == 0
    with open(out, newline="") as handle:
        scanned = {r["mutant"]: float(r["score"]) for r in csv.DictReader(handle)}
    proc = run("score", files["no_cb"], "--mutations", "C6A K1A", "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = dict(line.split(",") for line in proc.stdout.strip().splitlines()[1:])
    assert float(rows["C6A"]) == pytest.approx(scanned["C6A"], abs=1e-5)
    assert float(rows["K1A"]) == pytest.approx(scanned["K1A"], abs=1e-5)


def test_batch_makes_each_defect_one_failed_row_with_scans_reason(files, tmp_path):
    pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
    out = tmp_path / "run"
    proc = br.run_batch(files["nan"], files["unk"], files["no_cb"], "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr
    manifest = {r["structure_id"]: r for r in br.manifest(out)}
    for name in ("nan", "unk"):
        row = manifest[name]
        assert row["status"] == "failed" and "\n" not in row["reason"]
        assert row["reason"] == br.scan_error(files[name])
    assert manifest["no-cb"]["status"] == "ok" and manifest["no-cb"]["residues"] == 129
