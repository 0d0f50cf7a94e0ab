"""Issue 27, items 11-14: structure files made to hurt or exported by other tools, through the real command line.

Each file is made here from 1AKI (or 1K6P for two chains) by the fuzz suite's mutator helpers; nothing is
downloaded. The contract: exit 0 with the intact file's scores (or the stated change, and a note), or exit 2
with one line naming what the file is; never an internal error, a hang, a flood of memory or a silent change.
Most cases run ``saprot_scan.cli.main`` in this process (the real entry point); the ones that could hang run
in a subprocess with a timeout.
"""
from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from saprot_scan import cli
from support import batch_runs as br
from support.imperfect_variants import Atoms, source_text

HANG_LIMIT = 120


def _out(path: Path) -> Path:
    """Where a scan of ``path`` writes (beside it; /dev's files are scanned into the current folder)."""
    return (Path.cwd() if str(path).startswith("/dev/") else path.parent) / "scan-out.csv"


def scan(path: Path, capsys, *extra) -> tuple[int, str, list[dict]]:
    """``saprot-scan scan PATH --csv`` in this process: (exit status, stderr, rows)."""
    out = _out(path)
    out.unlink(missing_ok=True)
    capsys.readouterr()
    rc = cli.main(["scan", str(path), "--csv", str(out), *map(str, extra)])
    err = capsys.readouterr().err
    rows = []
    if out.exists():
        with open(out, newline="") as handle:
            rows = list(csv.DictReader(handle))
    return rc, err, rows


def accepted(path: Path, text: str, capsys, *extra) -> tuple[str, list[dict]]:
    """Write ``text`` to ``path`` and scan it, which must succeed: (stderr, rows)."""
    path.write_text(text)
    rc, err, rows = scan(path, capsys, *extra)
    assert rc == 0, err
    return err, rows


def refused(path: Path, capsys, *extra) -> str:
    rc, err, rows = scan(path, capsys, *extra)
    assert rc == 2, (rc, err)
    lines = err.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("saprot-scan: error: "), err
    assert not rows and not list(_out(path).parent.glob("scan-out.csv*")), "a refused file left output"
    return lines[0].lower()


@pytest.fixture(scope="module")
def intact(tmp_path_factory) -> dict:
    """The intact lysozyme's rows, from mmCIF and PDB (the reference every 'same scores' case is held to)."""
    from saprot_scan.cli import main

    root = tmp_path_factory.mktemp("intact")
    out = {}
    for suffix in ("cif", "pdb"):
        path = root / f"1aki.{suffix}"
        path.write_text(source_text(f"1aki.{suffix}"))
        assert main(["scan", str(path), "--quiet", "--csv", str(root / f"{suffix}.csv")]) == 0
        with open(root / f"{suffix}.csv", newline="") as handle:
            out[suffix] = list(csv.DictReader(handle))
    return out


def _cif() -> Atoms:
    return Atoms(source_text("1aki.cif"), cif=True)


def _pdb() -> Atoms:
    return Atoms(source_text("1aki.pdb"), cif=False)


def _residue(atoms: Atoms, number: str) -> list[int]:
    return [r for r in atoms.rows if atoms.get(r, "seq") == number]


# ---------------------------------------------------------------------------------------------- item 11

def test_an_unreadable_file_is_one_line(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("running as root: every file is readable, so no PermissionError can be made")
    path = tmp_path / "locked.cif"
    path.write_text(source_text("1aki.cif"))
    path.chmod(0)
    assert "permission denied" in refused(path, capsys)


def test_a_path_over_255_bytes_is_one_line(tmp_path, capsys):
    assert "too long" in refused(tmp_path / ("x" * 300 + ".cif"), capsys)


def test_a_gzip_bomb_stops_at_the_decompressed_cap(tmp_path, capsys):
    """640 MiB of zeros in 0.6 MB (concatenated gzip members); the default cap is 512 MiB."""
    member = gzip.compress(b"\0" * (1 << 24), mtime=0)
    path = tmp_path / "bomb.cif.gz"
    path.write_bytes(member * 40)
    line = refused(path, capsys)
    assert "gzip" in line and "512 mib" in line


def test_a_text_bomb_is_refused_before_it_is_read(tmp_path, capsys):
    path = tmp_path / "huge.pdb"
    with open(path, "wb") as handle:
        handle.truncate(3 << 30)  # a sparse 3 GiB file: no disk used, and reading it would take 3 GiB
    try:
        assert "larger than any structure" in refused(path, capsys)
    finally:
        path.unlink()


def test_more_atom_records_than_any_structure_are_refused(tmp_path, capsys):
    path = tmp_path / "atoms.pdb"
    path.write_text("ATOM\n" * 3_000_001)
    assert "3,000,001 atom records" in refused(path, capsys)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_named_and_never_read(device, capsys, tmp_path, monkeypatch):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    monkeypatch.chdir(tmp_path)
    assert "character device" in refused(Path(device), capsys)


@pytest.mark.parametrize("command", ["tokens", "scan"])
def test_a_fifo_with_no_writer_is_refused_not_waited_on(command, tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    fifo = tmp_path / "pipe.pdb"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "saprot_scan", command, str(fifo)], capture_output=True,
                          text=True, env=br.env(), timeout=HANG_LIMIT)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "named pipe (FIFO)" in proc.stderr, proc.stderr


def test_batch_goes_on_past_a_non_utf8_name_a_fifo_and_a_nan_b_factor(tmp_path):
    pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "1aki.cif").write_text(source_text("1aki.cif"))
    try:
        with open(os.path.join(os.fsencode(folder), b"odd\xff.cif"), "w") as handle:
            handle.write(source_text("1aki.cif"))
    except OSError:
        pytest.skip("this file system refuses a file name that is no UTF-8")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.cif")
    (folder / "nanb.pdb").write_text(_nan_b_factor_text())
    proc = subprocess.run(br.batch_cmd(folder, "--out", tmp_path / "out", "--model", br.MODEL, "--method", "wt",
                                       "--quiet"), capture_output=True, text=True, env=br.env(), timeout=600)
    assert proc.returncode == 0, proc.stderr
    rows = {r["structure_id"]: r for r in br.manifest(tmp_path / "out")}
    assert rows["1aki"]["status"] == "ok" and rows["odd\\xff"]["status"] == "ok", rows
    assert rows["nanb"]["status"] == "failed" and "b-factor nan" in rows["nanb"]["reason"].lower()
    if hasattr(os, "mkfifo"):
        assert rows["pipe"]["status"] == "failed" and "named pipe" in rows["pipe"]["reason"]


# ---------------------------------------------------------------------------------------------- item 12

def _nan_b_factor_text() -> str:
    atoms = _pdb()
    row = next(r for r in _residue(atoms, "30") if atoms.get(r, "atom") == "CA")
    line = atoms.lines[row]
    atoms.lines[row] = line[:60] + "   nan" + line[66:]
    return "REMARK   1 PREDICTED BY ALPHAFOLD\n" + atoms.text()


def test_a_nan_b_factor_in_an_alphafold_file_is_refused_naming_the_residue(tmp_path, capsys):
    path = tmp_path / "AF-nan.pdb"
    path.write_text(_nan_b_factor_text())
    line = refused(path, capsys)
    assert "residue 30 (cys) atom ca has b-factor nan" in line


# ---------------------------------------------------------------------------------------------- item 13

def test_a_byte_order_mark_changes_nothing(tmp_path, capsys, intact):
    for suffix in ("pdb", "cif"):
        path = tmp_path / f"bom.{suffix}"
        path.write_bytes(b"\xef\xbb\xbf" + source_text(f"1aki.{suffix}").encode())
        rc, err, rows = scan(path, capsys)
        assert rc == 0, err
        assert rows == intact[suffix]


def test_names_outside_the_component_table_are_kept_as_context_with_a_note(tmp_path, capsys, intact):
    atoms = _pdb()
    for number, name in (("30", "ZZZ"), ("40", "AL")):
        for row in _residue(atoms, number):
            atoms.set(row, "comp", name)
    path = tmp_path / "unknown-names.pdb"
    err, rows = accepted(path, atoms.text(), capsys)
    assert "kept as structure context" in err and "ZZZ 30" in err and "AL 40" in err, err
    assert len(rows) == len(intact["pdb"]) - 2 * 19  # 127 scored residues; the two are context, not dropped
    positions = {r["mutant"][1:-1] for r in rows}
    assert "31" in positions and "30" not in positions


FORCE_FIELD = {"CYS": ("CYX", "CYM"), "HIS": ("HIE", "HSD", "HID", "HIP"), "LYS": ("LYN",), "ASP": ("ASH",),
               "GLU": ("GLH",)}


def test_force_field_names_are_read_as_their_parents_with_a_note(tmp_path, capsys, intact):
    atoms = _pdb()
    renamed = []
    for parent, names in FORCE_FIELD.items():
        numbers = list(dict.fromkeys(atoms.get(r, "seq") for r in atoms.rows if atoms.get(r, "comp") == parent))
        for number, name in zip(numbers, names * len(numbers)):
            for row in _residue(atoms, number):
                atoms.set(row, "comp", name)
            renamed.append(name)
    assert set(renamed) >= {"CYX", "CYM", "HIE", "LYN", "ASH", "GLH"}
    path = tmp_path / "amber.pdb"
    err, rows = accepted(path, atoms.text(), capsys)
    assert "force-field names" in err and "CYX as CYS" in err, err
    assert rows == intact["pdb"]  # the same protein: the same scores


def test_a_residue_missing_only_its_ca_is_said(tmp_path, capsys, intact):
    atoms = _pdb()
    ca = next(r for r in _residue(atoms, "40") if atoms.get(r, "atom") == "CA")
    del atoms.lines[ca]
    path = tmp_path / "no-ca.pdb"
    err, rows = accepted(path, atoms.text(), capsys)
    assert "without a CA atom left out" in err and "THR 40" in err, err
    assert len(rows) == len(intact["pdb"]) - 19


def test_lower_case_atom_names_are_read_upper_cased_with_a_note(tmp_path, capsys, intact):
    atoms = _cif()
    for row in _residue(atoms, "40"):
        atoms.set(row, "atom", atoms.get(row, "atom").lower())
    path = tmp_path / "lower.cif"
    err, rows = accepted(path, atoms.text(), capsys)
    assert "lower case read upper-cased" in err, err
    assert rows == intact["cif"]


def test_two_mmcif_chains_sharing_one_auth_asym_id_are_not_merged(tmp_path, capsys):
    atoms = Atoms(source_text("1k6p.cif"), cif=True)
    assert {atoms.get(r, "chain") for r in atoms.rows} == {"A", "B"}
    for row in atoms.rows:
        atoms.set(row, "chain", "A")
    path = tmp_path / "shared.cif"
    path.write_text(atoms.text())
    line = refused(path, capsys)
    assert "2 polymer chains share this author chain id" in line and "label_asym_id a, b" in line


# ---------------------------------------------------------------------------------------------- item 14

def _zip(text: str, members: int = 1) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for k in range(members):
            archive.writestr(f"m{k}.cif", text)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["bz2", "xz", "zip"])
def test_compressed_formats_python_reads_are_read(kind, tmp_path, capsys, intact):
    data = source_text("1aki.cif").encode()
    packed = {"bz2": bz2.compress, "xz": lzma.compress, "zip": lambda d: _zip(d.decode())}[kind](data)
    path = tmp_path / f"1aki.cif.{kind}"
    path.write_bytes(packed)
    rc, err, rows = scan(path, capsys)
    assert rc == 0, err
    assert rows == intact["cif"]


def _tar(text: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("1aki.cif")
        info.size = len(text.encode())
        archive.addfile(info, io.BytesIO(text.encode()))
    return buffer.getvalue()


def _binary_cif() -> bytes:
    """The start of a BinaryCIF file: a MessagePack map whose keys are encoder, version, dataBlocks."""
    keys = b"".join(bytes([0xA0 | len(k)]) + k for k in (b"encoder", b"version", b"dataBlocks"))
    return b"\x83" + keys + b"\x90" * 64


@pytest.mark.parametrize("kind, says", [
    ("zstd", "zstd-compressed"), ("tar", "a tar archive"), ("bcif", "binarycif"), ("zip2", "zip archive of 2 files"),
])
def test_formats_not_read_are_named(kind, says, tmp_path, capsys):
    text = source_text("1aki.cif")
    data = {"zstd": lambda: b"\x28\xb5\x2f\xfd\x04\x58" + os.urandom(200), "tar": lambda: _tar(text),
            "bcif": _binary_cif, "zip2": lambda: _zip(text, 2)}[kind]()
    path = tmp_path / f"1aki.{kind}"
    path.write_bytes(data)
    assert says in refused(path, capsys)


def test_bom_and_no_data_line_in_mmcif_read_as_usual(tmp_path, capsys, intact):
    text = source_text("1aki.cif")
    body = "\n".join(line for line in text.split("\n") if not line.startswith("data_"))
    path = tmp_path / "headless.cif"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    rc, err, rows = scan(path, capsys)
    assert rc == 0, err
    assert rows == intact["cif"]


def _without_column(text: str, column: str) -> str:
    atoms = Atoms(text, cif=True)
    k = atoms.column[column]
    lines = []
    for line in atoms.lines:
        if line.strip() == f"_atom_site.{column}":
            continue
        if line.startswith(("ATOM", "HETATM")):
            fields = line.split()
            del fields[k]
            line = " ".join(fields)
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("column", ["pdbx_PDB_model_num", "label_alt_id", "pdbx_PDB_ins_code", "group_PDB",
                                    "type_symbol"])
def test_optional_mmcif_columns_left_out_are_read_with_their_obvious_value(column, tmp_path, capsys, intact):
    path = tmp_path / f"no-{column}.cif"
    err, rows = accepted(path, _without_column(source_text("1aki.cif"), column), capsys)
    assert rows == intact["cif"]


def test_a_missing_coordinate_column_is_named_in_plain_words(tmp_path, capsys):
    path = tmp_path / "no-y.cif"
    path.write_text(_without_column(source_text("1aki.cif"), "Cartn_y"))
    line = refused(path, capsys)
    assert "no cartn_y column (the y coordinates)" in line


@pytest.mark.parametrize("fmt", ["pdb", "cif"])
def test_a_field_that_does_not_read_is_named_with_its_line(fmt, tmp_path, capsys):
    atoms = _pdb() if fmt == "pdb" else _cif()
    row = atoms.rows[20]
    atoms.set(row, "x", "5  1.0" if fmt == "pdb" else "1.2.3")
    path = tmp_path / f"bad-field.{fmt}"
    path.write_text(atoms.text())
    line = refused(path, capsys)
    assert f"line {row + 1}:" in line and "not a number" in line, line


def test_a_ca_only_chain_beside_a_whole_one_is_left_out_with_a_chain_hint(tmp_path, capsys):
    atoms = Atoms(source_text("1k6p.cif"), cif=True)
    drop = {r for r in atoms.rows if atoms.get(r, "chain") == "B" and atoms.get(r, "atom") != "CA"}
    atoms.lines = [line for k, line in enumerate(atoms.lines) if k not in drop]
    path = tmp_path / "ca-only-b.cif"
    err, rows = accepted(path, atoms.text(), capsys)
    assert "chain B left out: only CA atoms" in err and "--chain" in err, err
    assert rows
    line = refused(path, capsys, "--chain", "B")
    assert "chain b has only ca atoms" in line and "--chain a" in line


def _ensemble(numbers: tuple[int, ...]) -> str:
    """Three models of lysozyme numbered ``numbers``, each moved a little, so a wrong pick gives other scores."""
    atoms = _pdb()
    body = [atoms.lines[r] for r in atoms.rows]
    text = ""
    for k, number in enumerate(numbers):
        moved = []
        for line in body:
            x = float(line[30:38]) * (1.0 + 0.02 * k)
            moved.append(f"{line[:30]}{x:8.3f}{line[38:]}")
        text += f"MODEL     {number:4d}\n" + "\n".join(moved) + "\nENDMDL\n"
    return text + "END\n"


def test_model_number_picks_by_the_files_numbers_not_their_order(tmp_path, capsys):
    numbered = tmp_path / "numbered.pdb"
    numbered.write_text(_ensemble((2, 5, 7)))
    ordinal = tmp_path / "ordinal.pdb"
    ordinal.write_text(_ensemble((1, 2, 3)))
    rc, err, by_number = scan(numbered, capsys, "--model-number", "5")
    assert rc == 0, err
    rc, err, second = scan(ordinal, capsys, "--model-number", "2")
    assert rc == 0, err
    assert by_number == second  # model 5 is the second model of the file
    line = refused(numbered, capsys, "--model-number", "3")
    assert "numbered 2, 5, 7" in line


def test_a_symlink_loop_and_a_dangling_link_are_named(tmp_path, capsys):
    loop = tmp_path / "loop.cif"
    loop.symlink_to(loop)
    assert "loop of symbolic links" in refused(loop, capsys)
    dangling = tmp_path / "dangling.cif"
    dangling.symlink_to(tmp_path / "gone.cif")
    assert "symbolic link to a file that does not exist" in refused(dangling, capsys)


def test_plddt_above_100_says_why_masking_is_off(tmp_path, capsys):
    atoms = _pdb()
    rng = np.random.default_rng(0)
    numbers = list(dict.fromkeys(atoms.get(r, "seq") for r in atoms.rows))
    values = {n: (100.5 if n == "12" else float(rng.uniform(40, 99))) for n in numbers}
    for row in atoms.rows:
        line = atoms.lines[row]
        atoms.lines[row] = f"{line[:60]}{values[atoms.get(row, 'seq')]:6.2f}{line[66:]}"
    path = tmp_path / "colabfold.pdb"
    err, rows = accepted(path, atoms.text(), capsys)
    assert "pLDDT masking is off" in err and "12 (100.5)" in err, err
    assert rows
