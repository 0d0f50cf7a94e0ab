"""A real two-node Ray cluster on loopback, run by test_batch_ray.py as one subprocess under
``unshare --net --pid --fork --mount-proc``: a private network namespace (loopback is the only interface,
so Ray stays on 127.0.0.1) and a private process namespace (so ``ray stop --force`` can only stop this
cluster's processes, and the kernel ends whatever is left when this script exits).

Scenario (results written as JSON to --report):
1. head node (1 CPU) + node B (1 CPU, resource node_b); both small object stores.
2. ``saprot-scan batch --engine ray --ray-address auto`` over the inputs (--method wt) -> OUT/plain.
3. the same with --method masked -> OUT/killed; after the first finished structure, the worker process on
   node B is killed with SIGKILL (by the pid the batch printed for it); then the same command again.
4. the masked run again -> OUT/interrupted, with Ctrl-C (SIGINT) after the first finished structure.
5. ``ray stop --force`` in a finally.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

READY = re.compile(r"worker ready: node=(\S+) pid=(\d+)")
PROGRESS = re.compile(r"batch: (\d+)/(\d+) structures")


def sh(*args, **kwargs):
    return subprocess.run(list(args), capture_output=True, text=True, **kwargs)


def batch(out, inputs, method, env, kill_node=None, interrupt=False):
    cmd = [sys.executable, "-m", "saprot_scan", "batch", *inputs, "--out", out, "--model", "saprot-scan-default",
           "--method", method, "--engine", "ray", "--ray-address", "auto", "--log-every", "1"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    lines, workers, killed = [], [], None
    for line in proc.stderr:
        lines.append(line.rstrip("\n"))
        ready = READY.search(line)
        if ready:
            workers.append({"node": ready.group(1), "pid": int(ready.group(2))})
        progress = PROGRESS.search(line)
        if progress and interrupt and killed is None:
            proc.send_signal(signal.SIGINT)  # Ctrl-C
            killed = {"pid": proc.pid, "done_at_kill": int(progress.group(1)), "total": int(progress.group(2))}
        if progress and kill_node and killed is None:
            victims = [w for w in workers if w["node"] == kill_node]
            if victims:
                os.kill(victims[0]["pid"], signal.SIGKILL)
                killed = {"pid": victims[0]["pid"], "done_at_kill": int(progress.group(1)),
                          "total": int(progress.group(2))}
    rc = proc.wait(timeout=600)
    return {"rc": rc, "stderr": lines, "workers": workers, "killed": killed}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args()
    report = {"steps": []}
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", SAPROT_SCAN_THREADS="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    ray_bin = os.path.join(os.path.dirname(sys.executable), "ray")
    temp = tempfile.mkdtemp(prefix="rt-", dir="/tmp")  # short: Ray's socket paths must stay under 108 bytes
    try:
        step = sh("ip", "link", "set", "lo", "up")
        report["steps"].append(["lo up", step.returncode, step.stderr[-500:]])
        common = ["--num-cpus=1", "--object-store-memory=100000000", f"--temp-dir={temp}"]
        step = sh(ray_bin, "start", "--head", "--port=6390", "--include-dashboard=false", *common, env=env)
        report["steps"].append(["head", step.returncode, step.stderr[-2000:]])
        if step.returncode:
            return 1
        step = sh(ray_bin, "start", "--address=127.0.0.1:6390", '--resources={"node_b": 1}', *common, env=env)
        report["steps"].append(["node b", step.returncode, step.stderr[-2000:]])
        if step.returncode:
            return 1
        probe = sh(sys.executable, "-c", "import json, ray; ray.init(address='auto', logging_level='ERROR'); "
                   "print(json.dumps([{'id': n['NodeID'], 'ip': n['NodeManagerAddress'], 'alive': n['Alive'], "
                   "'b': 'node_b' in n['Resources']} for n in ray.nodes()]))", env=env)
        report["nodes"] = json.loads(probe.stdout.strip().splitlines()[-1]) if probe.returncode == 0 else None
        report["steps"].append(["nodes", probe.returncode, probe.stderr[-2000:]])
        if not report["nodes"]:
            return 1
        node_b = next(n["id"] for n in report["nodes"] if n["b"])
        report["plain"] = batch(os.path.join(args.out, "plain"), args.inputs, "wt", env)
        report["killed"] = batch(os.path.join(args.out, "killed"), args.inputs, "masked", env, kill_node=node_b)
        report["resumed"] = batch(os.path.join(args.out, "killed"), args.inputs, "masked", env)
        killed = report["killed"]["killed"]
        report["interrupted"] = batch(os.path.join(args.out, "interrupted"), args.inputs, "masked", env,
                                      interrupt=True)
        report["interrupted_scratch"] = sorted(
            path for w in report["interrupted"]["workers"] for path in glob.glob(f"/dev/shm/saprot-batch-{w['pid']}-*"))
        report["killed_scratch"] = sorted(glob.glob(f"/dev/shm/saprot-batch-{killed['pid']}-*")) if killed else []
        return 0
    finally:
        step = sh(ray_bin, "stop", "--force", env=env)
        report["steps"].append(["stop", step.returncode, step.stderr[-500:]])
        shutil.rmtree(temp, ignore_errors=True)  # the cluster's session logs
        with open(args.report, "w") as handle:
            json.dump(report, handle, indent=1)
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
