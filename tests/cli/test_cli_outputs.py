"""Issue 13, item 5: outputs do what was asked. The CSV table goes to the terminal only when no output file was
asked for; ``tokens`` shows residue ids; an error line says ``saprot-scan: error:`` once."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from saprot_scan import cli
from saprot_scan.encoding.structure import read_structure
from support.data import structure

ANTIBODY = structure("1igy")
LYSOZYME = structure("1aki")


@pytest.fixture(autouse=True)
def fresh_result_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("SAPROT_SCAN_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("option,name", [("--heatmap", "h.png"), ("--summary-csv", "r.csv"), ("--json", "s.json"),
                                         ("--csv", "s.csv"), ("--csv-hgvs", "m.csv")])
def test_any_output_file_keeps_the_table_off_the_terminal(option, name, tiny_onnx_model, tmp_path, capsys):
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--method", "wt",
                     option, str(tmp_path / name)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (tmp_path / name).stat().st_size > 0 and f"wrote {tmp_path / name}" in captured.err


def test_no_output_file_prints_the_table(tiny_onnx_model, capsys):
    assert cli.main(["scan", str(LYSOZYME), "--model", str(tiny_onnx_model), "--method", "wt", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("chain,position,residue,wt,mt,mutant,score,percentile,class\n") and len(out.splitlines()) == 1 + 129 * 19


def test_tokens_prints_residue_ids(capsys):
    assert cli.main(["tokens", str(ANTIBODY), "--chain", "B", "--chain", "A", "--3di", "embedded"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[0].split("\t") == ["chain", "aa", "3di", "combined", "residues"]
    chains = {c.chain_id: c for c in read_structure(ANTIBODY, chains=["B", "A"])}
    for line in lines[1:]:
        chain_id, aa, di, combined, residues = line.split("\t")
        labels = residues.split(",")
        assert labels == [r.label for r in chains[chain_id].residue_ids] and len(labels) == len(aa) == len(di)
    heavy = lines[1].split("\t")[4].split(",")
    assert heavy[:2] == ["2", "3"] and heavy[50:53] == ["52", "52A", "53"]


@pytest.mark.parametrize("args,message", [
    (["score", str(LYSOZYME)], "saprot-scan: error: score: one of the arguments --mutations --mutations-file is "
                               "required (see --help)"),
    (["scan", str(LYSOZYME), "--method", "best"], "saprot-scan: error: scan: argument --method: invalid choice: "
                                                  "'best'"),
    (["models", "fetch"], "saprot-scan: error: models fetch: the following arguments are required: name "
                          "(see --help)"),
    (["frobnicate"], "saprot-scan: error: argument command: invalid choice: 'frobnicate'"),
])
def test_error_lines_name_the_program_once(args, message, tmp_path):
    env = dict(os.environ, SAPROT_SCAN_CACHE=str(tmp_path / "cache"))
    env.pop("SAPROT_SCAN_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", *args], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().split("\n")
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(message) and lines[0].count("saprot-scan") == 1
