"""Run a test body in a fresh Python process holding one real headless ChimeraX session.

ChimeraX allows one session per process ("Can not reuse CmdDesc instances"), so every test gets
its own process.  The body runs with these names defined:

- ``session``: the ChimeraX session; ``run(session, "command")`` runs a command line;
- ``log``: every log message since start, as (level, text, is_html) tuples (``log.html()``,
  ``log.text()``, ``log.status_lines`` for status lines);
- ``user_error(command)``: run a command that should fail; returns the ``UserError`` text or None;
- ``out``: a dict the body fills; it comes back to the test as JSON;
- ``params``: the JSON-able dict the test passed (paths of structures and models; ``chimerax_home``
  names the folder ChimeraX keeps its user data in, so a second process sees what the first installed).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
RESULT_MARK = "@@CHIMERAX-RESULT@@"

_PRELUDE = """\
import json, sys
sys.path.insert(0, {tests_dir!r})
from chimerax_harness.session import start_session, run
from chimerax_harness.capture import LogCapture
params = json.loads({params_json!r})
home = params.get("chimerax_home")  # a ChimeraX home kept across processes (a restart), else a new one
session = start_session(offscreen={offscreen!r}, root=None if home is None else __import__("pathlib").Path(home))
log = LogCapture(session)
out = {{}}

def user_error(command):
    from chimerax.core.errors import UserError
    try:
        run(session, command)
    except UserError as err:
        return str(err)
    return None

"""

_EPILOGUE = """

print({mark!r} + json.dumps(out, default=str), flush=True)
"""


class ChimeraXRunError(AssertionError):
    """The ChimeraX process failed; the message carries the end of its output."""


def run_chimerax(body: str, workdir: Path, params: dict | None = None, offscreen: bool = False,
                 timeout: float = 300, env: dict | None = None, python: str | None = None) -> dict:
    """Run ``body`` in a new ChimeraX process (cwd ``workdir``; ``python``: another interpreter than
    this one) and return its ``out`` dict."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "chimerax_test_script.py"
    script.write_text(_PRELUDE.format(tests_dir=str(TESTS_DIR), offscreen=offscreen,
                                     params_json=json.dumps(params or {}, default=str))
                      + textwrap.dedent(body) + _EPILOGUE.format(mark=RESULT_MARK))
    full_env = dict(os.environ)
    full_env.setdefault("OMP_NUM_THREADS", "1")
    for key, value in (env or {}).items():  # None removes a variable
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.run([python or sys.executable, str(script)], cwd=workdir, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    tail = (proc.stdout[-4000:] + "\n--- stderr ---\n" + proc.stderr[-4000:])
    raise ChimeraXRunError(f"ChimeraX process exited {proc.returncode} without a result:\n{tail}")
