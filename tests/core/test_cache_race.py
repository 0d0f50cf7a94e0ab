"""Issue 10, item 4: processes that cache at the same time never break each other's files.

The hash store (models/hashing.py) used to go through one fixed ``hashes.tmp`` name, which two processes
hashing at once shared: one could move the other's half-written file into place, or lose its own. Here
real processes hash files and cache scan scores into one cache folder at the same moment.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER = r"""
import os, sys, time
from pathlib import Path
import numpy as np
from saprot_scan import cache
from saprot_scan.models.hashing import cached_sha256

files, start, rounds = [Path(p) for p in sys.argv[3:]], float(sys.argv[1]), int(sys.argv[2])
while time.time() < start:  # every worker begins together
    time.sleep(0.001)
for k in range(rounds):
    for path in files:
        print(path.name, cached_sha256(path))
        os.utime(path, ns=(k + 1, k + 1 + int(sys.argv[2]) * 1000))  # a new stamp: hashed and stored again
    cache.store_scores("shared-key", np.full((3, 20), float(len(files))))
"""


def test_processes_hashing_and_caching_at_once_leave_valid_files(tmp_path):
    cache_dir = tmp_path / "cache"
    env = {**os.environ, "SAPROT_SCAN_CACHE": str(cache_dir)}
    workers = []
    start = __import__("time").time() + 2.0
    for w in range(4):
        files = []
        for i in range(3):
            path = tmp_path / f"w{w}-{i}.bin"
            path.write_bytes(os.urandom(2048))
            files.append(path)
        workers.append((files, subprocess.Popen(
            [sys.executable, "-c", WORKER, str(start), "15", *map(str, files)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)))
    for files, proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        expected = {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files}
        lines = [line.split() for line in out.splitlines()]
        assert len(lines) == 15 * len(files)
        assert all(digest == expected[name] for name, digest in lines)  # never a value read from a broken store
    store = json.loads((cache_dir / "hashes.json").read_text())  # valid JSON, whoever wrote last
    every = {hashlib.sha256(p.read_bytes()).hexdigest() for files, _ in workers for p in files}
    assert store and set(store.values()) <= every
    scores = np.load(cache_dir / "results" / "shared-key.npy")
    np.testing.assert_array_equal(scores, np.full((3, 20), 3.0))
    leftovers = [p.name for p in cache_dir.rglob("*") if p.name.endswith(".part") or p.name.endswith(".tmp")]
    assert leftovers == []
