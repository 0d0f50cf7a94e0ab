"""Find PyMOL's own Python and pip-install the saprot_scan core into it, from the wheel the plugin zip carries.

pip must run in exactly the interpreter PyMOL runs in, or the core lands in a Python PyMOL never imports from.
PyPI and conda builds of PyMOL run in an ordinary Python, so ``sys.executable`` is that interpreter; a PyMOL
that embeds Python (Incentive PyMOL's PyMOLWin.exe or its macOS app binary) can report itself there instead,
and then the interpreter is the python under ``sys.prefix``, which must report the same prefix as we do.
No PyMOL or Qt here: this module only finds files and runs pip.
"""
from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

from .errors import PluginError

WHEELS = Path(__file__).resolve().parent / "wheels"  # filled by plugin_pymol/build_zip.py
#: Why pip is never asked for the core by name: "saprot-scan" is published on no package index, so whoever
#: registered the name there would run their code in PyMOL's Python (issue 27).
NO_SOURCE = ("this copy of the plugin carries no core wheel and is not in a saprot-scan checkout, and pip is never "
             "asked for the core by name (saprot-scan is on no package index: whoever registered the name would "
             "run code in PyMOL's Python); install the plugin from its release zip, which carries the core wheel, "
             "or install the core from a checkout: python -m pip install PATH/TO/saprot-scan/core")
_NO_WINDOW = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console window flashing up over PyMOL
_PYTHON_NAME = re.compile(r"python(\d+(\.\d+)?)?w?(\.exe)?", re.IGNORECASE)


def is_python(path: str | os.PathLike) -> bool:
    """A file named like a Python interpreter (python, python3.11, python.exe), not an app that embeds one."""
    path = Path(path)
    return _PYTHON_NAME.fullmatch(path.name) is not None and path.is_file()


def interpreters_under(prefix: str | os.PathLike) -> list[Path]:
    """Where an installation keeps its interpreter: POSIX bin/, Windows (conda) top folder, Windows venv Scripts/."""
    prefix = Path(prefix)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return [prefix / "bin" / "python3", prefix / "bin" / "python", prefix / "bin" / f"python{version}",
            prefix / "python.exe", prefix / "Scripts" / "python.exe"]


def reports_prefix(python: str | os.PathLike, prefix: str | os.PathLike) -> bool:
    """Run python and check its sys.prefix is ``prefix``: the interpreter of this installation, not another."""
    try:
        proc = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL, creationflags=_NO_WINDOW)
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0 and _same_path(proc.stdout.strip(), prefix)


@functools.lru_cache(maxsize=None)
def pymol_python(executable: str | None = None, prefix: str | None = None) -> str:
    """The interpreter PyMOL runs in (defaults: this process's sys.executable and sys.prefix)."""
    executable = sys.executable if executable is None else executable
    prefix = sys.prefix if prefix is None else prefix
    if executable and is_python(executable):
        return executable
    for candidate in interpreters_under(prefix):
        if candidate.is_file() and reports_prefix(candidate, prefix):
            return str(candidate)
    raise PluginError(f"cannot find PyMOL's Python: sys.executable is {executable or 'empty'} and no python "
                      f"under {prefix} reports that prefix; type 'import sys; print(sys.executable)' in "
                      "PyMOL and install the core with that Python's pip")


def bundled_wheel(folder: Path = WHEELS) -> Path | None:
    """The core wheel shipped inside the plugin zip, or None (a plugin installed with pip has none)."""
    wheels = sorted(folder.glob("saprot_scan-*.whl")) if folder.is_dir() else []
    return wheels[-1] if wheels else None


def install_target() -> str:
    """What pip installs: the bundled wheel, else the core folder of a source checkout; never a bare name
    (PluginError saying how to get the core instead)."""
    wheel = bundled_wheel()
    if wheel is not None:
        return str(wheel)
    checkout = Path(__file__).resolve().parents[2] / "core"  # plugin_pymol/saprot_scan_pymol/ -> core/
    if (checkout / "pyproject.toml").is_file() and (checkout / "saprot_scan" / "__init__.py").is_file():
        return str(checkout)
    raise PluginError(NO_SOURCE)


def requirements(wheel: Path | None) -> list[str]:
    """The names of the core's own dependencies, read from the wheel's metadata (extras left out)."""
    if wheel is None:
        return []
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        lines = archive.read(name).decode().splitlines()
    requires = [line.split(":", 1)[1] for line in lines if line.startswith("Requires-Dist:")]
    return [re.match(r"\s*([A-Za-z0-9_.-]+)", r).group(1) for r in requires if "extra ==" not in r]


def pip_command(python: str, target: str, *, for_terminal: bool = False) -> list[str]:
    """pip install in that Python; run by the plugin it must never stop to ask (no terminal to answer in)."""
    # PyMOL's log shows pip's box-drawing progress bars as "???": the plugin's own pip prints none.
    flags = [] if for_terminal else ["--disable-pip-version-check", "--no-input", "--progress-bar", "off"]
    return [python, "-m", "pip", "install", *flags, target]


def terminal_command(python: str, target: str) -> str:
    """``python -m pip install target`` as a user would paste it into a terminal on this system."""
    argv = pip_command(python, target, for_terminal=True)
    return subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)


def run_pip(argv: list[str], on_line: Callable[[str], None]) -> tuple[int, str]:
    """Run pip, handing each output line to on_line as it comes; (exit status, pip's last error line)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines as pip writes them, not in 4 kB blocks
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, errors="replace", env=env, creationflags=_NO_WINDOW)
    except OSError as err:
        return 127, str(err)
    last_error = last_line = ""
    with proc.stdout:
        for raw in proc.stdout:
            line = raw.rstrip()
            if not line.strip():
                continue
            on_line(line)
            last_line = line.strip()
            if last_line.startswith("ERROR:"):
                last_error = last_line
    code = proc.wait()
    return code, last_error or last_line


def _same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))
