"""Run many ``saprot-scan`` command lines in one process through the real entry point, ``saprot_scan.cli.main``.

Start-up (imports, gemmi and biotite tables) costs about a second per process; the fuzz suite runs hundreds
of variants, so one process runs a list of argument vectors and records, per vector, what a user would see:
the exit status, stdout and stderr (every warning shown, never once-per-process), or "timeout" when one
vector runs longer than its limit (a hang guard, not a speed test).

    python cli_batch.py VECTORS.json RESULTS.json SECONDS_PER_VECTOR
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import warnings


class _Timeout(BaseException):
    pass


def _alarm(_signum, _frame):
    raise _Timeout()


def run_one(argv: list[str], seconds: int) -> dict:
    from saprot_scan.cli import main

    out, err = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
            warnings.simplefilter("always")
            rc = main(argv)
    except _Timeout:
        rc = "timeout"
    except BaseException as exc:  # noqa: BLE001 - anything escaping main() is a finding, recorded as such
        rc = f"escaped {type(exc).__name__}: {exc}"
    finally:
        signal.alarm(0)
    return {"rc": rc, "stdout": out.getvalue()[-2000:], "stderr": err.getvalue()}


def main() -> None:
    vectors_path, results_path, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.environ.pop("SAPROT_SCAN_DEBUG", None)
    with open(vectors_path) as handle:
        vectors = json.load(handle)
    results = {name: run_one(argv, seconds) for name, argv in vectors}
    with open(results_path, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
