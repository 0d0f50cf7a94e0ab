"""The README's picture of a report: a page opened in headless Chromium, one residue selected, the first
screen saved as PNG (narrowed to keep the file small).

    python tests/support/report_screenshot.py PAGE.html OUT.png [ROW]   # ROW: 0-based residue row to select
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support import browser  # noqa: E402

WIDTH = 1000  # pixels of the saved picture


def screenshot(page: Path, out: Path, row: int = 51) -> None:
    driver = browser.start()
    try:
        driver.set_window_size(1280, 1000)
        problems = browser.errors(browser.open_page(driver, page))
        if problems:
            raise SystemExit(f"the page logged errors: {problems}")
        driver.execute_script("saprotReport.select(0, arguments[0], 'table'); window.scrollTo(0, 0);", row)
        time.sleep(1.0)  # the 3D view's centring on the selected residue is animated
        driver.save_screenshot(str(out))
    finally:
        driver.quit()
    from PIL import Image

    with Image.open(out) as image:
        small = image.convert("RGB").resize((WIDTH, round(image.height * WIDTH / image.width)), Image.LANCZOS)
    small.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 51)
