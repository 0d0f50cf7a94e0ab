"""Build the two wheels ChimeraX users install (`make bundle`), without ChimeraX itself.

The bundle wheel is built by setuptools: ChimeraX finds a bundle's commands in its wheel's classifiers,
and those are kept in chimerax-classifiers.txt, written by ChimeraX's own bundle builder from the
[chimerax] table of pyproject.toml (`make bundle-classifiers`). The core wheel is the saprot_scan package
the bundle imports. The script ends by printing the exact ChimeraX commands for the files it wrote.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SOURCES = {"core": REPO / "core", "bundle": HERE}
# The two wheels' names start with their projects' normalised names (binary distribution format spec).
WHEEL_PREFIXES = {"core": "saprot_scan-", "bundle": "chimerax_saprot-"}


def _normalised_name(wheel: Path) -> str:
    project, rest = wheel.name.split("-", 1)
    return f"{re.sub(r'[-_.]+', '_', project).lower()}-{rest}"


def _normalised(wheel: Path) -> Path:
    """Older setuptools keep the project's spelling (ChimeraX_SaProt-...); name the file as the wheel
    spec and current setuptools do, so the printed commands and the docs name one file."""
    name = _normalised_name(wheel)
    return wheel if name == wheel.name else wheel.rename(wheel.with_name(name))


class BuildError(RuntimeError):
    """pip could not build a wheel; the message is pip's last lines."""


def build(out_dir: Path, isolated: bool = True) -> dict[str, Path]:
    """Build both wheels into ``out_dir`` and return their paths by role ("core", "bundle").

    Older wheels of the two projects in ``out_dir`` are removed first, so the folder holds one file of
    each and the printed commands cannot pick a stale version. ``isolated=False`` builds with the
    running Python's setuptools (offline); the default lets pip fetch setuptools like any build.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    ours = tuple(WHEEL_PREFIXES.values())
    for old in out_dir.glob("*.whl"):
        if _normalised_name(old).startswith(ours):
            old.unlink()
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-q",
               "-w", str(out_dir)]
    if not isolated:
        command.append("--no-build-isolation")
    proc = subprocess.run(command + [str(SOURCES["core"]), str(SOURCES["bundle"])],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
        raise BuildError(f"pip could not build the wheels:\n{tail}")
    built = [_normalised(w) for w in out_dir.glob("*.whl") if _normalised_name(w).startswith(ours)]
    return {role: next(w for w in built if w.name.startswith(prefix)) for role, prefix in WHEEL_PREFIXES.items()}


def chimerax_commands(wheels: dict[str, Path]) -> list[str]:
    """The two ChimeraX command lines that install these files (ChimeraX's `pip` takes a requirement,
    so the core wheel is named as one: ``saprot-scan @ file:///...``)."""
    return [f'pip install "saprot-scan @ {wheels["core"].as_uri()}"',
            f"toolshed install {wheels['bundle']}"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(HERE / "dist"))
    parser.add_argument("--no-build-isolation", dest="isolated", action="store_false",
                        help="build with this Python's setuptools instead of fetching it")
    args = parser.parse_args(argv)
    try:
        wheels = build(Path(args.out_dir), isolated=args.isolated)
    except BuildError as err:
        print(f"build_wheels: error: {err}", file=sys.stderr)
        return 1
    print("built:")
    for path in wheels.values():
        print(f"  {path}")
    print("install in ChimeraX 1.7 or later (type at its command line; the saprot commands work at once):")
    for line in chimerax_commands(wheels):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
