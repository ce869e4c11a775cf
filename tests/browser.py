"""A real browser for the tests: Debian's chromium, headless, driven by selenium through
Debian's chromedriver (browsers that download themselves do not install here).

``chromium()`` starts one with a new empty profile; ``need_browser()`` skips the calling
test in one line when chromium, chromedriver or selenium is missing.
"""
import base64
import io
import shutil
import tempfile
import time

import numpy as np
import pytest

CHROMIUM = ("/usr/bin/chromium", "chromium")
DRIVER = ("/usr/bin/chromedriver", "chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900", "--hide-scrollbars")


def _which(names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


def need_browser():
    """(chromium, chromedriver) paths, or skip: 'no browser: ...' in one line."""
    exe, drv = _which(CHROMIUM), _which(DRIVER)
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("no browser test: selenium is missing (pip install -e '.[test]')")
    if not exe or not drv:
        pytest.skip("no browser: apt-get install chromium chromium-driver")
    return exe, drv


def chromium(profile):
    """A headless chromium with an empty profile in ``profile`` that logs the console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    exe, drv = need_browser()
    o = webdriver.ChromeOptions()
    o.binary_location = exe
    for f in FLAGS:
        o.add_argument(f)
    o.add_argument(f"--user-data-dir={tempfile.mkdtemp(dir=profile)}")
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(drv), options=o)


def console_errors(driver):
    """The browser console's errors since the last call."""
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait_for(fn, timeout=10.0, what="the page"):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def canvas_rgb(driver, element):
    """What a canvas element shows, as (H, W, 3) uint8 (decoded from its PNG data URL)."""
    from PIL import Image
    url = driver.execute_script("return arguments[0].toDataURL('image/png')", element)
    im = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    return np.asarray(im.convert("RGB"))
