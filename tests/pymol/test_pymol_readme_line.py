"""Issue 24, item 9: the documented first line of a `pymol -cq` script starts the plugin in this checkout's venv
(the plugin installed as a package, as `make demo` installs it), where PyMOL's plugin manager does not list it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _documented_line() -> str:
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for line in page.read_text().splitlines():
            if line.startswith("/from pymol import plugins") and "saprot_scan_pymol" in line:
                return line
    raise AssertionError("no pymol -cq start-up line documented")


def test_the_documented_start_line_runs_in_pymol_cq(tmp_path):
    script = tmp_path / "start.pml"
    script.write_text(_documented_line() + "\n/print('commands:', 'saprot_scan' in cmd.keyword)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "core"), str(REPO / "plugin_pymol"),
                                                        os.environ.get("PYTHONPATH", "")]),
               HOME=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "pymol", "-cq", str(script)], capture_output=True, text=True,
                          env=env, timeout=300)
    out = proc.stdout + proc.stderr
    assert "no such plugin" not in out and "Traceback" not in out, out
    assert re.search(r"commands: True", out), out
