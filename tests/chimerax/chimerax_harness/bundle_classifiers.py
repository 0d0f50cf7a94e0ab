"""The classifiers ChimeraX's own bundle builder writes for the bundle (`devel build` on a copy).

ChimeraX finds a bundle's commands in these classifier lines. `make bundle` builds the wheel with plain
setuptools, which reads them from bundle_chimerax/chimerax-classifiers.txt; this module writes that file
(`make bundle-classifiers`) and the tests check it is current.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from .driver import run_chimerax

REPO = Path(__file__).resolve().parents[3]
BUNDLE = REPO / "bundle_chimerax"
CLASSIFIERS_FILE = BUNDLE / "chimerax-classifiers.txt"

_DEVEL_BUILD = """
from chimerax.core.commands import run
import glob
run(session, "cd " + params["bundle"])  # ChimeraX 1.7's builder works in the current folder
run(session, "devel build " + params["bundle"])
out["wheels"] = glob.glob(params["bundle"] + "/dist/*.whl")
out["log"] = log.text()
"""


def wheel_classifiers(wheel: Path) -> list[str]:
    """The ``Classifier:`` lines of a wheel's METADATA, in order."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    return [line[len("Classifier: "):] for line in text.splitlines() if line.startswith("Classifier: ")]


def built_classifiers(work: Path) -> list[str]:
    """Run ChimeraX's `devel build` on a copy of the bundle under ``work``; its wheel's classifiers."""
    copy = work / "bundle"
    shutil.copytree(BUNDLE, copy, ignore=shutil.ignore_patterns("dist", "build", "*.egg-info"))
    out = run_chimerax(_DEVEL_BUILD, work / "run", params={"bundle": str(copy)}, env={"PYTHONPATH": None})
    if len(out["wheels"]) != 1:
        raise RuntimeError(f"devel build made no wheel:\n{out['log'][-3000:]}")
    return wheel_classifiers(Path(out["wheels"][0]))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        lines = built_classifiers(Path(tmp))
    CLASSIFIERS_FILE.write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines)} classifiers to {CLASSIFIERS_FILE}", file=sys.stderr)
