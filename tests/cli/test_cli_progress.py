"""The CLI shows a progress bar on a terminal during long scans, and none in logs or pipes."""
from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios


def _scan_args(example_structure, tiny_onnx_model, out):
    return [sys.executable, "-m", "saprot_scan", "scan", str(example_structure), "--model", str(tiny_onnx_model),
            "--csv", str(out), "--no-cache"]


def test_progress_bar_on_a_terminal(example_structure, tiny_onnx_model, tmp_path):
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal's size
    proc = subprocess.Popen(_scan_args(example_structure, tiny_onnx_model, tmp_path / "s.csv"),
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(leader)
    shown = b"".join(chunks).decode(errors="replace")
    assert "chain A" in shown and "res" in shown and "%" in shown, shown


def test_no_progress_bar_when_stderr_is_a_pipe(example_structure, tiny_onnx_model, tmp_path):
    proc = subprocess.run(_scan_args(example_structure, tiny_onnx_model, tmp_path / "s.csv"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "%|" not in proc.stderr
    assert "129 residues, masked-marginal" in proc.stderr
