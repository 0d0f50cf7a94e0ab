"""Headless Chromium (the Debian ``chromium`` and ``chromium-driver`` packages, ``make report-test-sysdeps``)
driven by Selenium, for the report's page tests: what a person opening the page would see and do.

WebGL for the 3D view comes from SwiftShader (software rendering), so no GPU or display is needed.
"""
from __future__ import annotations

import shutil
from pathlib import Path

#: Where Debian puts the browser and its driver (PATH is searched first).
CHROMIUM = ("chromium", "chromium-browser", "/usr/bin/chromium")
CHROMEDRIVER = ("chromedriver", "/usr/bin/chromedriver")
WINDOW = (1280, 1000)


def _find(names) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def missing() -> str:
    """Why the browser tests cannot run here ("" when they can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'saprot-scan[test]')"
    if not _find(CHROMIUM) or not _find(CHROMEDRIVER):
        return "headless Chromium is not installed (make report-test-sysdeps: Debian chromium chromium-driver)"
    return ""


def start():
    """A headless Chromium window of ``WINDOW`` size that keeps the page's console messages."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _find(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader", "--disable-extensions", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(_find(CHROMEDRIVER)), options=options)


def open_page(driver, path: Path) -> list[dict]:
    """Load ``path`` and wait until its script finished; returns the console messages logged so far."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && document.body.getAttribute('data-ready') === '1'"))
    return driver.get_log("browser")


def errors(messages: list[dict]) -> list[str]:
    """The console messages that are errors (uncaught exceptions, console.error, failed loads)."""
    return [m["message"] for m in messages if m.get("level") == "SEVERE"]
