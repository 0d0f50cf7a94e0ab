"""Run saprot-scan's command line where torch, transformers and safetensors cannot be imported: an import hook
refuses them, the condition of a venv holding only ``core[fetch]``; the run fails if any of them got loaded."""
from __future__ import annotations

import os
import subprocess
import sys

BLOCKED = ("torch", "transformers", "safetensors")

SCRIPT = f"""
import importlib.abc, sys
BLOCKED = {BLOCKED!r}
class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError(f'{{name}} is blocked: this run stands for an install without torch')
sys.meta_path.insert(0, NoTorch())
from saprot_scan.cli import main
code = main(sys.argv[1:])
assert not any(m.split('.')[0] in BLOCKED for m in sys.modules), 'torch was imported'
sys.exit(code)
"""


def run_without_torch(args, cache, timeout: float = 600, **env) -> subprocess.CompletedProcess:
    full = dict(os.environ, SAPROT_SCAN_CACHE=str(cache), **env)
    full.pop("SAPROT_SCAN_DEBUG", None)
    return subprocess.run([sys.executable, "-c", SCRIPT, *map(str, args)], capture_output=True, text=True,
                          env=full, timeout=timeout)
