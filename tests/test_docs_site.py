"""The built docs site in a real browser: every thumbnail on the gallery page and every
player on a family page loads and is not blank, and the console stays clean.

Needs the site built first (``mkdocs build --strict``, as .ci/run does); skips in one line
without it or without a browser. NUMPY_DL_SITE points at another build."""
import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from browser import chromium, console_errors, need_browser, wait_for

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("NUMPY_DL_SITE", ROOT / "site"))

# An element's pixels, drawn on a canvas: how many distinct grey levels (1: blank).
LEVELS = """
const el = arguments[0];
const c = document.createElement('canvas');
c.width = el.naturalWidth || el.width; c.height = el.naturalHeight || el.height;
const x = c.getContext('2d'); x.drawImage(el, 0, 0);
const d = x.getImageData(0, 0, c.width, c.height).data;
const seen = new Set();
for (let i = 0; i < d.length; i += 4 * 7) seen.add((d[i] + d[i + 1] + d[i + 2]) >> 2);
return seen.size;
"""


@pytest.fixture(scope="module")
def site():
    if not (SITE / "gallery" / "index.html").is_file():
        pytest.skip(f"no built site in {SITE}: pip install -e '.[docs]' && mkdocs build --strict")
    need_browser()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                          functools.partial(Quiet, directory=str(SITE)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}/"
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    need_browser()
    d = chromium(tmp_path_factory.mktemp("profile"))
    yield d
    d.quit()


def test_gallery_thumbnails_load_and_are_not_blank(site, browser, tmp_path):
    from selenium.webdriver.common.by import By
    d = browser
    d.get(site + "gallery/")
    imgs = d.find_elements(By.CSS_SELECTOR, "article img")
    assert len(imgs) >= 40
    d.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager')")
    wait_for(lambda: all(d.execute_script("return arguments[0].complete && "
                                          "arguments[0].naturalWidth > 0", i) for i in imgs),
             what="every thumbnail")
    blank = [i.get_attribute("src") for i in imgs if d.execute_script(LEVELS, i) < 3]
    assert blank == []
    shots = tmp_path / "screenshots"
    shots.mkdir()
    assert d.save_screenshot(str(shots / "gallery_page.png"))
    assert console_errors(d) == []


def test_every_player_on_a_family_page_plays(site, browser):
    from selenium.webdriver.common.by import By
    d = browser
    d.get(site + "gallery/backward/")
    frames = d.find_elements(By.CSS_SELECTOR, "iframe.ndl-embed")
    assert len(frames) >= 6
    for f in frames:
        d.execute_script("arguments[0].scrollIntoView()", f)
        d.switch_to.frame(f)
        try:
            root = wait_for(lambda: d.find_elements(By.CSS_SELECTOR,
                                                    ".ndl-player[data-ready='2']"),
                            what="a player")[0]
            canvas = root.find_element(By.CSS_SELECTOR, "canvas")
            assert d.execute_script(LEVELS, canvas) >= 3
            assert root.find_element(By.CSS_SELECTOR, ".ndl-caption").text
        finally:
            d.switch_to.default_content()
    # a link to each player's MP4 (when built) and PNG stills
    links = [a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "article a")]
    assert any(h.endswith(".png") for h in links)
    if any((SITE / "gallery" / "media").glob("*.mp4")):      # built with the video extra
        assert sum(h.endswith(".mp4") for h in links) == len(frames)
    assert console_errors(d) == []
