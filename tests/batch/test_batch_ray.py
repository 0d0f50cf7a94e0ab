"""Issue 11, item 4: ``saprot-scan batch --engine ray`` on a real two-node Ray cluster, on loopback only.

The cluster runs inside a private network namespace (loopback is its only interface, so Ray stays on
127.0.0.1 instead of registering the machine's own address; see docs/ray-local-cluster.md) and a
private process namespace (so ``ray stop --force`` there can only stop this test's cluster). The whole
scenario is ``ray_scenario.py``, run as one subprocess; this test checks what it left: both nodes did
work, killing node B's worker process mid-run lost nothing, and the Ray rows equal the local engine's.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import batch_runs as br

pytest.importorskip("pyarrow", reason="batch output needs the batch extra (pyarrow)")
pytest.importorskip("ray", reason="the Ray engine needs the ray extra: pip install 'saprot-scan[ray]'")

UNSHARE = ["unshare", "--net", "--pid", "--fork", "--mount-proc"]
SCENARIO = Path(__file__).with_name("ray_scenario.py")


def _namespaces_allowed() -> str | None:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare/ip not found: cannot keep a test Ray cluster on a private loopback"
    try:
        probe = subprocess.run(UNSHARE + ["ip", "link", "set", "lo", "up"], capture_output=True, text=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unshare failed: {err}"
    if probe.returncode != 0:
        return f"unshare not permitted here ({probe.stderr.strip()[:200]}); Ray tests need a private loopback"
    return None


@pytest.fixture(scope="module")
def scenario(test_data, tmp_path_factory) -> dict:
    reason = _namespaces_allowed()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("batch-ray")
    data = test_data / "foldseek_3di"
    inputs = root / "inputs"
    inputs.mkdir()
    for name in br.SMALL:
        shutil.copy(data / f"{name}.cif", inputs / f"{name}.cif")
    (inputs / "empty.pdb").write_text("")  # a bad file is a failed row on Ray too
    report_path = root / "report.json"
    proc = subprocess.run(UNSHARE + [sys.executable, str(SCENARIO), "--out", str(root / "out"), "--report",
                                     str(report_path), str(inputs)],
                          capture_output=True, text=True, env=br.env(), timeout=1200)
    assert report_path.exists(), proc.stdout + proc.stderr
    report = json.loads(report_path.read_text())
    assert proc.returncode == 0, json.dumps(report, indent=1)[-6000:] + proc.stderr[-3000:]
    return {"report": report, "out": root / "out", "inputs": inputs, "root": root}


def test_cluster_is_two_nodes_on_loopback(scenario):
    nodes = scenario["report"]["nodes"]
    assert len(nodes) == 2 and all(n["alive"] for n in nodes)
    assert {n["ip"] for n in nodes} == {"127.0.0.1"}
    assert sum(n["b"] for n in nodes) == 1
    assert scenario["report"]["steps"][-1][:2] == ["stop", 0]


def test_both_nodes_did_work_and_rows_equal_the_local_engine(scenario, tmp_path):
    run = scenario["report"]["plain"]
    assert run["rc"] == 0, "\n".join(run["stderr"])
    manifest = br.manifest(scenario["out"] / "plain")
    ok = [r for r in manifest if r["status"] == "ok"]
    assert len(ok) == len(br.SMALL)
    assert [r["reason"] for r in manifest if r["status"] == "failed"] == ["empty.pdb: the file is empty"]
    assert {r["node"] for r in ok} == {n["id"] for n in scenario["report"]["nodes"]}  # both nodes scored
    local = tmp_path / "local"
    proc = br.run_batch(scenario["inputs"], "--out", local, "--model", br.MODEL, "--method", "wt")
    assert proc.returncode == 0, proc.stderr

    def rows(folder, name):
        return sorted(tuple(r.values()) for r in br.table(folder, name))

    for name in ("scores", "residues"):
        assert rows(scenario["out"] / "plain", name) == rows(local, name)
    strip = ("node", "pid", "seconds", "finished", "part", "source")
    assert sorted(tuple(v for k, v in r.items() if k not in strip) for r in manifest) == \
        sorted(tuple(v for k, v in r.items() if k not in strip) for r in br.manifest(local))


def test_killing_a_worker_mid_run_loses_nothing(scenario):
    run = scenario["report"]["killed"]
    text = "\n".join(run["stderr"])
    assert run["rc"] == 0, text
    killed = run["killed"]
    assert killed is not None, text
    assert killed["done_at_kill"] < killed["total"]  # the kill came while work remained
    assert "worker lost (" in text  # the engine saw it and handed its structures on
    assert len(run["workers"]) >= 3  # two at the start, and the replacement Ray started
    manifest = br.manifest(scenario["out"] / "killed")
    ok = [r for r in manifest if r["status"] == "ok"]
    assert len(ok) == len(br.SMALL) and len(manifest) == len(br.SMALL) + 1
    # the killed worker is credited only with structures finished before it died
    assert sum(r["pid"] == killed["pid"] for r in ok) <= killed["done_at_kill"]
    # its replacement on node B removed the scratch folder the killed process could not
    assert not scenario["report"]["killed_scratch"], scenario["report"]["killed_scratch"]
    rows = br.table(scenario["out"] / "killed")
    keys = [(r["structure_id"], r["chain"], r["position"], r["mt"]) for r in rows]
    residues = br.table(scenario["out"] / "killed", "residues")
    assert len(residues) == sum(r["residues"] for r in ok)
    assert len(keys) == len(set(keys)) == 19 * sum(r["wt"] in br.AMINO_ACIDS for r in residues)
    resumed = "\n".join(scenario["report"]["resumed"]["stderr"])
    assert f"{len(br.SMALL)} already done, 1 failed before" in resumed and "scoring 0" in resumed


def test_ctrl_c_on_ray_stops_cleanly(scenario):
    run = scenario["report"]["interrupted"]
    text = "\n".join(run["stderr"])
    assert run["rc"] == 130, text
    assert "interrupted:" in text and "run the same command again to resume" in text and "Traceback" not in text
    out = scenario["out"] / "interrupted"
    manifest = br.manifest(out)
    ok = [r for r in manifest if r["status"] == "ok"]
    assert 1 <= len(manifest) < len(br.SMALL) + 1  # stopped mid-run, kept what had finished
    assert {r["structure_id"] for r in br.table(out)} == {r["structure_id"] for r in ok}
    assert not list(out.rglob("*.tmp")) and not (out / "manifest.log").exists()
    assert not scenario["report"]["interrupted_scratch"]  # the workers' scratch folders went with them
