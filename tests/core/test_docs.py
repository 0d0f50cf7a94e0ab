"""The README stays what a newcomer reads in two minutes, and every page it sends readers to exists."""
from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _relative_links(page: Path) -> list[Path]:
    targets = [m.group(1) for m in LINK.finditer(page.read_text(encoding="utf-8"))]
    return [page.parent / t for t in targets if "://" not in t]


def test_the_readme_is_short():
    assert (REPO / "README.md").stat().st_size < 12 * 1024


def test_the_readme_links_every_guide_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for page in sorted((REPO / "docs").glob("*.md")):
        assert f"docs/{page.name}" in readme, f"README does not link {page.name}"


def test_every_relative_link_resolves():
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = [f"{page.name} -> {target}" for page in pages for target in _relative_links(page)
              if not target.exists()]
    assert not broken, broken
