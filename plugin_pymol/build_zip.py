"""Build the Plugin-Manager archive: dist/saprot_scan_pymol-VERSION.zip holding saprot_scan_pymol/."""
from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE / "saprot_scan_pymol"


def version() -> str:
    text = (PACKAGE / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def build(out_dir: Path) -> Path:
    """Only the package's .py files, with fixed timestamps so the same sources give the same zip."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"saprot_scan_pymol-{version()}.zip"
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PACKAGE.glob("*.py")):
            info = zipfile.ZipInfo(f"saprot_scan_pymol/{path.name}", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent / "dist"))
