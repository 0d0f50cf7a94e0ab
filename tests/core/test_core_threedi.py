"""Issue 2, item 2: `saprot-scan tokens` writes exactly Foldseek's 3Di strings.

Every record of tests/data/foldseek_3di/i3d.fasta (written by Foldseek itself) is one test, run
through the real command line in-process.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from saprot_scan import cli
from support.data import data_dir
from saprot_scan.encoding.structure import read_structure
from saprot_scan.encoding.threedi import encode_3di, encode_embedded

FOLDSEEK_DIR = data_dir() / "foldseek_3di"


def _records() -> list[tuple[str, str]]:
    path = FOLDSEEK_DIR / "i3d.fasta"
    records, name = [], None
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split()[0]
            records.append([name, ""])
        elif line.strip():
            records[-1][1] += line.strip()
    return [tuple(r) for r in records]


RECORDS = _records()


def _parse_name(name: str) -> tuple[str, int, str]:
    """``1abc_A`` -> ("1abc", 1, "A"); ``1abc_MODEL_3_A`` -> ("1abc", 3, "A")."""
    parts = name.split("_")
    if len(parts) == 4 and parts[1] == "MODEL":
        return parts[0], int(parts[2]), parts[3]
    return parts[0], 1, parts[1]


def _tokens_rows(capsys, argv: list[str]) -> list[dict[str, str]]:
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    header = lines[0].split("\t")
    assert header == ["chain", "aa", "3di", "combined", "residues"]  # DESIGN.md's four columns, then residue ids
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    for row in rows:
        assert len(row["residues"].split(",")) == len(row["aa"])
    return rows


def test_reference_data_present(test_data):
    assert len(RECORDS) == 107


@pytest.mark.parametrize("name,expected", RECORDS, ids=[r[0] for r in RECORDS])
def test_tokens_command_reproduces_foldseek(name, expected, capsys):
    pdb_id, model, chain = _parse_name(name)
    argv = ["tokens", str(FOLDSEEK_DIR / f"{pdb_id}.cif"), "--chain", chain]
    if model != 1:
        argv += ["--model-number", str(model)]
    (row,) = _tokens_rows(capsys, argv)
    assert row["chain"] == chain
    assert row["3di"] == expected.lower()  # Foldseek writes upper case; SaProt's tokens (and the JSON) lower
    assert len(row["aa"]) == len(expected)
    assert row["combined"] == "".join(a + s.lower() for a, s in zip(row["aa"], expected))


def test_every_chain_scored_on_its_own(capsys):
    rows = _tokens_rows(capsys, ["tokens", str(FOLDSEEK_DIR / "1f2n.cif"), "--3di", "embedded"])
    expected = dict(RECORDS)
    assert [r["chain"] for r in rows] == ["A", "B", "C"]
    for row in rows:
        assert row["3di"] == expected[f"1f2n_{row['chain']}"].lower()


def test_several_chains_selected(capsys):
    rows = _tokens_rows(capsys, ["tokens", str(FOLDSEEK_DIR / "3wip.cif"), "--chain", "J", "--chain", "B"])
    assert [r["chain"] for r in rows] == ["J", "B"]
    expected = dict(RECORDS)
    assert [r["3di"] for r in rows] == [expected["3wip_J"].lower(), expected["3wip_B"].lower()]


def test_foldseek_record_names_pick_chain_and_model():
    """The binary's output is matched by Foldseek's own record names (those in i3d.fasta)."""
    from saprot_scan.encoding.threedi import is_record_of

    names = [name for name, _ in RECORDS]
    assert [n for n in names if is_record_of(n, "A", 3) and n.startswith("1gya")] == ["1gya_MODEL_3_A"]
    assert [n for n in names if is_record_of(n, "A", 1) and n.startswith("1gya")] == ["1gya_MODEL_1_A"]
    assert [n for n in names if is_record_of(n, "B", 1) and n.startswith("3wip")] == ["3wip_B"]
    assert not any(is_record_of(n, "B", 2) for n in names if n.startswith("3wip"))


def test_read_structure_remembers_the_model(test_data):
    (chain,) = read_structure(FOLDSEEK_DIR / "1l2y.cif", model=7)
    assert chain.model == 7


def test_embedded_backend_without_a_file_uses_the_encoder(example_structure):
    (chain,) = read_structure(example_structure)
    chain.source = "viewer"
    assert encode_3di(chain, "auto") == encode_embedded(chain) == dict(RECORDS)["1aki_A"].lower()


def test_unknown_backend_is_an_input_error(example_structure, capsys):
    assert cli.main(["tokens", str(example_structure), "--3di", "psipred"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "invalid choice" in err


@pytest.mark.skipif(shutil.which("foldseek") is not None, reason="a foldseek binary is on PATH")
def test_foldseek_backend_without_binary_says_so(example_structure, capsys):
    assert cli.main(["tokens", str(example_structure), "--3di", "foldseek"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "saprot-scan: error: --3di foldseek: no foldseek binary on PATH"


@pytest.mark.skipif(shutil.which("foldseek") is None, reason="no foldseek binary on PATH to compare with")
def test_foldseek_binary_agrees_with_embedded(example_structure, capsys):
    binary = _tokens_rows(capsys, ["tokens", str(example_structure), "--3di", "foldseek"])
    embedded = _tokens_rows(capsys, ["tokens", str(example_structure), "--3di", "embedded"])
    assert binary == embedded
