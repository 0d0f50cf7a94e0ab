"""Every subpackage of the core is in the wheel: a package missing from pyproject's list works in an
editable install (tests, make demo) and breaks only for users who pip-install the core or the ChimeraX bundle."""
from __future__ import annotations

import re
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def test_every_subpackage_is_listed_in_pyproject():
    text = (CORE / "pyproject.toml").read_text()
    section = text.split("\n[tool.setuptools]\n", 1)[1].split("\n[", 1)[0]
    listed = set(re.findall(r'"(saprot_scan(?:\.[a-z_0-9]+)*)"', section))
    on_disk = {".".join(p.parent.relative_to(CORE).parts) for p in (CORE / "saprot_scan").rglob("__init__.py")
               if "__pycache__" not in p.parts}
    assert on_disk and "saprot_scan.backends" in on_disk
    assert on_disk - listed == set(), "subpackages missing from [tool.setuptools] packages"
