"""Issue 11: ``saprot-scan batch`` with the local engine, run for real (subprocesses, the embedded model).

Checked against the single-structure command: every batch row equals the row ``saprot-scan scan --csv``
writes for the same file, every failed row's reason is the line ``scan`` prints for that file.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from support import batch_runs as br
from support import core_testfiles as tf

pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")


@pytest.fixture(scope="module")
def inputs(test_data, tmp_path_factory) -> dict:
    """A folder (nested), a tar of gzipped members, a homodimer, and bad files; all from real entries."""
    data = test_data / tf.FOLDSEEK_DIR_NAME
    root = tmp_path_factory.mktemp("batch-inputs")
    folder = root / "folder"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(data / "1l2y.cif", folder / "1l2y.cif")
    shutil.copy(data / "2axd.cif", folder / "sub" / "2axd.cif")
    shutil.copy(data / "1gya.cif", folder / "sub" / "1gya.cif")
    (folder / "notes.txt").write_text("not a structure, not listed\n")  # folders take structure names only
    archive = br.gz_tar(root / "proteome.tar", {"proteome/AF-3o5r-model_v4.cif.gz": data / "3o5r.cif",
                                                "proteome/AF-5zng-model_v4.cif.gz": data / "5zng.cif"})
    import biotite.structure as struc

    lyso = tf.load_atoms(data / "1aki.cif")
    lyso = lyso[struc.filter_amino_acids(lyso)]
    twin = lyso.copy()
    twin.chain_id[:] = "B"
    twin.coord += np.array([60.0, 0.0, 0.0], dtype=np.float32)
    dimer = tf.write_pdb(struc.concatenate([lyso, twin]), root / "dimer.pdb")
    bad = root / "bad"
    bad.mkdir()
    (bad / "empty.pdb").write_text("")
    packed = tf.gzip_copy(data / "4i39.cif", root / "whole.cif.gz").read_bytes()
    (bad / "cut.cif.gz").write_bytes(packed[: len(packed) // 2])
    (bad / "page.pdb").write_text("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n")
    shutil.copy(data / "4gxy.cif", bad / "4gxy.cif")  # nucleic acid only: no protein chain
    return {"data": data, "root": root, "folder": folder, "archive": archive, "dimer": dimer, "bad": bad,
            "sources": {"1l2y": data / "1l2y.cif", "2axd": data / "2axd.cif", "1gya": data / "1gya.cif",
                        "AF-3o5r-model_v4": data / "3o5r.cif", "AF-5zng-model_v4": data / "5zng.cif",
                        "dimer": dimer}}


@pytest.fixture(scope="module")
def first(inputs, tmp_path_factory) -> dict:
    """One batch over the folder, the archive, the homodimer and the bad files (wt-marginal)."""
    out = tmp_path_factory.mktemp("batch-out") / "run"
    proc = br.run_batch(inputs["folder"], inputs["archive"], inputs["dimer"], inputs["bad"] / "*",
                        "--out", out, "--model", br.MODEL, "--method", "wt", "--log-every", "1")
    return {"out": out, "proc": proc}


def test_discovery_of_folders_globs_lists_and_archives(inputs, tmp_path):
    from saprot_scan.batch import discover, structure_id

    assert structure_id("AF-P69905-F1-model_v4.cif.gz") == "AF-P69905-F1-model_v4"
    assert structure_id("dir/pdb1abc.ent") == "pdb1abc"
    assert structure_id("1ABC.PDB.GZ") == "1ABC"
    assert structure_id("model.v2.mmcif") == "model.v2"
    listing = tmp_path / "todo.txt"
    relative = os.path.relpath(inputs["dimer"], tmp_path)
    listing.write_text(f"# structures to score\n\n{relative}\n{inputs['folder'] / 'sub'}\n"
                       f"{inputs['root'] / 'gone.cif'}\n")
    found = discover([str(listing), str(inputs["archive"]), str(inputs["folder"] / "**" / "*.cif")])
    ids = [s.structure_id for s in found.sources]
    assert ids == ["dimer", "1gya", "2axd", "gone", "AF-3o5r-model_v4", "AF-5zng-model_v4", "1l2y"]
    member = found.sources[4]
    assert member.path is None and member.source.endswith("proteome.tar::proteome/AF-3o5r-model_v4.cif.gz")
    # a glob also matching sub/ again: each structure once; another file with a taken id is reported
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(inputs["data"] / "1l2y.cif", other / "1l2y.cif")
    found = discover([str(inputs["folder"]), str(inputs["folder"] / "sub" / "*.cif"), str(other)])
    assert [s.structure_id for s in found.sources] == ["1l2y", "1gya", "2axd"]
    assert [(a.source, b.source) for a, b in found.duplicates] == [
        (str(other / "1l2y.cif"), str(inputs["folder"] / "1l2y.cif"))]


def test_rows_equal_scan_and_manifest_says_how(first, inputs, tmp_path):
    proc, out = first["proc"], first["out"]
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows, residues = br.by_structure(br.table(out)), br.by_structure(br.table(out, "residues"))
    manifest = {r["structure_id"]: r for r in br.manifest(out)}
    sha = __import__("json").loads((Path(__file__).parents[2] / "models/default/model.json").read_text())["sha256"]
    for sid, path in inputs["sources"].items():
        expected, summary = br.scan_csv(path, tmp_path / sid)
        got = sorted(rows[sid], key=lambda r: (r["chain"], r["position"], r["mt"]))
        expected = sorted(expected, key=lambda r: (r["chain"], int(r["position"]), r["mt"]))
        assert [(r["chain"], r["position"], r["residue"], r["wt"], r["mt"], r["mutant"], f"{r['score']:.6f}")
                for r in got] == [(e["chain"], int(e["position"]), e["residue"], e["wt"], e["mt"], e["mutant"],
                                   e["score"]) for e in expected], sid
        assert {(r["model"], r["method"], r["precision"]) for r in got} == {(br.MODEL, "wt", "fp32")}
        # the percentile within the chain and its class, as the scan CSV gives them (issue 19)
        assert [(f"{r['percentile']:.2f}", r["class"]) for r in got] == [(e["percentile"], e["class"])
                                                                           for e in expected], sid
        res = sorted(residues[sid], key=lambda r: (r["chain"], r["position"]))
        assert [(r["chain"], r["position"], r["residue"], r["wt"], f"{r['mean']:.6f}", f"{r['min']:.6f}")
                for r in res] == [(s["chain"], int(s["position"]), s["residue"], s["wt"], s["mean"], s["min"])
                                  for s in sorted(summary, key=lambda s: (s["chain"], int(s["position"])))]
        row = manifest[sid]
        assert (row["status"], row["reason"], row["model"], row["model_sha256"], row["method"], row["precision"]) \
            == ("ok", "", br.MODEL, sha, "wt", "fp32")
        assert row["residues"] == len(res) and row["seconds"] >= 0 and row["part"]
    assert manifest["AF-3o5r-model_v4"]["source"] == f"{inputs['archive']}::proteome/AF-3o5r-model_v4.cif.gz"
    assert re.search(r"batch: finished: 6 ok, 4 failed, 0 skipped", proc.stderr)
    assert "batch: 10/10 structures (4 failed, 0 skipped)" in proc.stderr  # plain lines when not a terminal


def test_bad_files_are_failed_rows_with_scans_reason(first, inputs):
    manifest = {r["structure_id"]: r for r in br.manifest(first["out"])}
    for name in ("empty.pdb", "cut.cif.gz", "page.pdb", "4gxy.cif"):
        row = manifest[name.split(".")[0]]
        assert row["status"] == "failed" and "\n" not in row["reason"]
        assert row["reason"] == br.scan_error(inputs["bad"] / name)
        assert row["part"] == "" and row["residues"] == 0
    assert not {r["structure_id"] for r in br.table(first["out"])} & {"empty", "cut", "page", "4gxy"}


def test_identical_chains_are_scored_once(first):
    row = next(r for r in br.manifest(first["out"]) if r["structure_id"] == "dimer")
    assert (row["chains"], row["scored_chains"]) == (2, 1)
    rows = br.by_structure(br.table(first["out"]))["dimer"]
    a = [(r["position"], r["mt"], r["score"]) for r in rows if r["chain"] == "A"]
    b = [(r["position"], r["mt"], r["score"]) for r in rows if r["chain"] == "B"]
    assert a and a == b
    five = next(r for r in br.manifest(first["out"]) if r["structure_id"] == "AF-5zng-model_v4")
    assert (five["chains"], five["scored_chains"]) == (2, 2)  # different chains are each scored


def test_resume_skips_done_retries_failed_only_when_asked(first, inputs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(first["out"], out)
    before = {r["structure_id"]: r for r in br.manifest(out)}
    parts = sorted(p.name for p in (out / "scores").iterdir())
    args = [inputs["folder"], inputs["archive"], inputs["dimer"], inputs["bad"] / "*", "--out", out,
            "--model", br.MODEL, "--method", "wt"]
    proc = br.run_batch(*args)
    assert proc.returncode == 0, proc.stderr
    assert "6 already done, 4 failed before (--retry-failed scores them again); scoring 0" in proc.stderr
    assert {r["structure_id"]: r for r in br.manifest(out)} == before
    assert sorted(p.name for p in (out / "scores").iterdir()) == parts
    # the broken download is fetched again; only --retry-failed looks at failed structures again
    tf.gzip_copy(inputs["data"] / "4i39.cif", inputs["bad"] / "cut.cif.gz")
    try:
        proc = br.run_batch(*args, "--retry-failed")
    finally:
        packed = (inputs["bad"] / "cut.cif.gz").read_bytes()
        (inputs["bad"] / "cut.cif.gz").write_bytes(packed[: len(packed) // 2])
    assert proc.returncode == 0, proc.stderr
    assert "6 already done; scoring 4" in proc.stderr
    after = {r["structure_id"]: r for r in br.manifest(out)}
    assert after["cut"]["status"] == "ok" and after["empty"]["status"] == "failed"
    assert {k: v for k, v in after.items() if k not in ("cut", "empty", "page", "4gxy")} == \
        {k: v for k, v in before.items() if k not in ("cut", "empty", "page", "4gxy")}
    rows = br.by_structure(br.table(out))
    cut = br.by_structure(br.table(out, "residues"))["cut"]
    assert len(cut) == after["cut"]["residues"]
    assert len(rows["cut"]) == 19 * sum(r["wt"] in br.AMINO_ACIDS for r in cut)
    # another method is another result: everything is scored again, beside the wt rows
    proc = br.run_batch(inputs["folder"], "--out", out, "--model", br.MODEL, "--method", "masked")
    assert proc.returncode == 0, proc.stderr
    assert "0 already done; scoring 3" in proc.stderr
    methods = {(r["structure_id"], r["method"]) for r in br.table(out)}
    assert {("1l2y", "wt"), ("1l2y", "masked"), ("2axd", "masked"), ("cut", "wt")} <= methods
    keys = [(r["structure_id"], r["method"]) for r in br.manifest(out)]
    assert len(keys) == len(set(keys)) == 13


def test_a_crash_leftover_part_is_removed_and_cut_log_line_ignored(first, inputs, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(first["out"], out)
    count = len(br.table(out))
    (part,) = (out / "scores").iterdir()
    # what a crash between writing a part and logging its structures leaves behind
    orphan = "part-19990101T000000-1-00001.parquet"
    shutil.copy(part, out / "scores" / orphan)
    shutil.copy(out / "residues" / part.name, out / "residues" / orphan)
    (out / "scores" / f".{orphan}.77.tmp").write_bytes(b"PAR1 half a file")
    with open(out / "manifest.log", "a") as log:
        log.write('{"structure_id": "1l2y", "model_sha2')  # a line cut short
    assert len(br.table(out)) == 2 * count
    proc = br.run_batch(inputs["folder"], "--out", out, "--model", br.MODEL, "--method", "wt")
    assert proc.returncode == 0, proc.stderr
    assert "3 already done; scoring 0" in proc.stderr
    assert sorted(p.name for p in (out / "scores").iterdir()) == [part.name]
    assert sorted(p.name for p in (out / "residues").iterdir()) == [part.name]
    assert len(br.table(out)) == count and not (out / "manifest.log").exists()


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(inputs, tmp_path):
    out = tmp_path / "run"
    structures = [inputs["data"] / f"{name}.cif" for name in br.SMALL] + [inputs["dimer"]]
    cmd = br.batch_cmd(*structures, "--out", out, "--model", br.MODEL, "--method", "masked", "--log-every", "1")
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=br.env())
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if re.match(r"batch: 2/\d+ structures", line):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=300) == 130, "".join(seen) + rest
    assert "interrupted:" in rest and "run the same command again to resume" in rest and "Traceback" not in rest
    done = [r for r in br.manifest(out) if r["status"] == "ok"]
    assert 2 <= len(done) < len(structures)  # stopped mid-run, kept what had finished
    assert {r["structure_id"] for r in br.table(out)} == {r["structure_id"] for r in done}
    assert not list(out.rglob("*.tmp")) and not (out / "manifest.log").exists()
    proc = br.run_batch(*structures, "--out", out, "--model", br.MODEL, "--method", "masked")
    assert proc.returncode == 0, proc.stderr
    assert f"{len(done)} already done; scoring {len(structures) - len(done)}" in proc.stderr
    manifest = br.manifest(out)
    assert len(manifest) == len(structures) and {r["status"] for r in manifest} == {"ok"}
    rows = br.table(out)
    keys = [(r["structure_id"], r["chain"], r["position"], r["mt"]) for r in rows]
    residues = br.table(out, "residues")
    assert len(residues) == sum(r["residues"] for r in manifest)
    assert len(keys) == len(set(keys)) == 19 * sum(r["wt"] in br.AMINO_ACIDS for r in residues)


def test_two_local_workers_one_killed_lose_nothing(first, inputs, tmp_path):
    out = tmp_path / "run"
    args = [inputs["folder"], inputs["archive"], inputs["dimer"], inputs["bad"] / "*", "--out", out,
            "--model", br.MODEL, "--method", "wt", "--workers", "2", "--log-every", "1"]
    proc = subprocess.Popen(br.batch_cmd(*args), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=br.env())
    pids, killed, lines, done_at_kill = [], None, [], 0
    for line in proc.stderr:
        lines.append(line)
        ready = re.search(r"worker ready: node=\S+ pid=(\d+)", line)
        if ready:
            pids.append(int(ready.group(1)))
        progress = re.match(r"batch: (\d+)/(\d+) structures", line)
        if killed is None and progress:
            killed, done_at_kill = pids[-1], int(progress.group(1))
            assert done_at_kill < int(progress.group(2))
            os.kill(killed, signal.SIGKILL)
    assert proc.wait(timeout=300) == 0, "".join(lines)
    text = "".join(lines)
    assert killed is not None and f"worker lost (pid {killed}, exit code -9)" in text
    assert len(pids) == 3  # two at the start and the replacement
    manifest = {r["structure_id"]: r for r in br.manifest(out)}
    assert manifest.keys() == {r["structure_id"] for r in br.manifest(first["out"])}
    assert [r["status"] for r in manifest.values()].count("ok") == 6
    # the killed worker is credited only with structures finished before it died
    assert sum(r["pid"] == killed for r in manifest.values()) <= done_at_kill
    assert not list(Path("/dev/shm").glob(f"saprot-batch-{killed}-*"))  # its scratch folder was swept

    def rows(folder):
        return sorted((r["structure_id"], r["chain"], r["position"], r["mt"], r["score"]) for r in br.table(folder))

    assert rows(out) == rows(first["out"])


def test_usage_errors_are_one_line(inputs, tmp_path):
    cases = [
        ([tmp_path / "missing.cif", "--out", tmp_path / "o"], "no such file or folder"),
        ([str(tmp_path / "nothing-*.cif"), "--out", tmp_path / "o"], "no files match"),
        ([inputs["folder"], "--out", tmp_path / "o", "--gpus-per-worker", "1"], "needs --engine ray"),
        ([inputs["folder"], "--out", tmp_path / "o", "--ray-address", "auto"], "needs --engine ray"),
        ([inputs["folder"], "--out", tmp_path / "o", "--model", tmp_path / "nope.onnx"], "nope.onnx"),
    ]
    for args, text in cases:
        proc = br.run_batch(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and text in proc.stderr and "Traceback" not in proc.stderr
    busy = tmp_path / "busy"
    busy.mkdir()
    with open(busy / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        proc = br.run_batch(inputs["folder"], "--out", busy, "--model", br.MODEL)
    assert proc.returncode == 2 and "another saprot-scan batch is writing" in proc.stderr


def test_one_structure_reads_back_as_scan_results(first, inputs):
    import saprot_scan as ss
    from saprot_scan.batch import load_results

    scorer = ss.load_scorer(br.MODEL)
    for sid in ("AF-5zng-model_v4", "dimer"):
        loaded = load_results(first["out"], sid)
        direct = [ss.scan_chain(chain, scorer, method="wt", use_cache=False)
                  for chain in ss.read_structure(inputs["sources"][sid])]
        assert [r.chain_id for r in loaded] == [r.chain_id for r in direct]
        for got, want in zip(loaded, direct):
            assert got.residue_ids == want.residue_ids and got.wt == want.wt
            np.testing.assert_array_equal(got.scores, want.scores)
            np.testing.assert_array_equal(got.summary("mean"), want.summary("mean"))
            assert (got.model_name, got.method) == (br.MODEL, "wt")
    with pytest.raises(ss.InputError, match="empty: no scores"):
        load_results(first["out"], "empty")
    with pytest.raises(ss.InputError, match="not in the batch output"):
        load_results(first["out"], "1abc")


def test_a_terminal_gets_a_progress_bar(inputs, tmp_path):
    import struct
    import termios

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 wide
    try:
        proc = subprocess.Popen(br.batch_cmd(inputs["folder"], inputs["bad"] / "empty.pdb", "--out", tmp_path / "o",
                                             "--model", br.MODEL, "--method", "wt"),
                                stderr=slave, stdout=subprocess.DEVNULL, env=br.env())
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=300) == 0
    finally:
        os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert re.search(r"structures: +100%\|.*\| 4/4 \[", text), text  # tqdm: done/total, rate and ETA
    assert "failed=1" in text and "batch: finished: 3 ok, 1 failed" in text
    assert "batch: 4/4 structures" not in text  # no plain log lines on a terminal
