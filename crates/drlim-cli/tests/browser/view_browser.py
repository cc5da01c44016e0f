"""Headless Chromium (Debian's `chromium` and `chromedriver`) driven by Selenium, and the `drlim`
command line, for the tests of the maps `drlim view` writes."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[4]


def drlim_bin() -> str:
    exe = os.environ.get("DRLIM_BIN") or str(ROOT / "target" / "release" / "drlim")
    if not Path(exe).exists():
        pytest.fail(f"no drlim binary at {exe}: build it (cargo build --release) or set DRLIM_BIN")
    return exe


def drlim(*args: str) -> subprocess.CompletedProcess:
    """Runs the drlim command line; returns the finished process (check it yourself)."""
    return subprocess.run([drlim_bin(), *map(str, args)], capture_output=True, text=True)


def _find(names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def start_browser():
    """A headless Chromium under Selenium, or the reason there is none (a string)."""
    chromium = _find(["chromium", "chromium-browser", "google-chrome"])
    driver_exe = _find(["chromedriver"])
    try:
        from selenium import webdriver
    except ImportError:
        webdriver = None
    missing = [w for w, ok in [("chromium", chromium), ("chromedriver", driver_exe),
                               ("selenium", webdriver)] if not ok]
    if missing:
        return "no " + ", ".join(missing) + " (apt-get install chromium chromium-driver; pip install selenium)"
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--use-angle=swiftshader",
              "--enable-unsafe-swiftshader", "--window-size=1100,800", "--hide-scrollbars"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=driver_exe))
    d.set_script_timeout(120)
    d.set_page_load_timeout(300)
    return d
