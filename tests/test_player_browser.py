"""The HTML player in a real browser (Debian's chromium): what a learner sees and the keys
they press. Skips in one line where no browser is installed."""
import numpy as np
import pytest

from browser import canvas_rgb, chromium, console_errors, need_browser, wait_for
from viz.export import rgb


@pytest.fixture(scope="module")
def anim():
    import ops
    from viz.window_gif import render_window
    x = np.random.default_rng(3).random((1, 1, 8, 8))
    _, cache = ops.max_pool2d(x, 2)
    return render_window(cache.trace(sample=0), max_frames=12)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    need_browser()
    d = chromium(tmp_path_factory.mktemp("profile"))
    yield d
    d.quit()


def test_player_keys_captions_and_frames(tmp_path, anim, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    page = anim.save(tmp_path / "player.html")
    d = browser
    d.get(page.as_uri())
    root = d.find_element(By.CSS_SELECTOR, ".ndl-player")
    wait_for(lambda: root.get_attribute("data-ready") == "2", what="the player's images")
    canvas = d.find_element(By.CSS_SELECTOR, ".ndl-player canvas")
    caption = d.find_element(By.CSS_SELECTOR, ".ndl-caption")
    frame = lambda: int(root.get_attribute("data-frame"))      # noqa: E731
    keys = lambda *k: ActionChains(d).send_keys(*k).perform()   # noqa: E731
    captions = [t["caption"] for t in anim.texts]

    assert root.get_attribute("data-playing") == "1"           # it starts playing, like the GIF
    keys(" ")                                                   # space pauses
    assert root.get_attribute("data-playing") == "0"
    held = frame()
    d.execute_script("return new Promise(r => setTimeout(r, 400))")
    assert frame() == held

    keys(Keys.HOME)
    assert frame() == 0 and caption.text == captions[0]
    np.testing.assert_array_equal(canvas_rgb(d, canvas), rgb(anim.frames[0]))
    for i in range(1, len(anim)):                               # right arrow: one frame on
        keys(Keys.ARROW_RIGHT)
        assert frame() == i and caption.text == captions[i]
        if captions[i] != captions[i - 1]:
            assert caption.text != captions[i - 1]
    np.testing.assert_array_equal(canvas_rgb(d, canvas), rgb(anim.frames[-1]))
    keys(Keys.ARROW_LEFT)
    assert frame() == len(anim) - 2
    np.testing.assert_array_equal(canvas_rgb(d, canvas), rgb(anim.frames[-2]))

    # shift+right walks the chapters: every tour step, then the sweep and the hold
    tour = anim.tour_frames()
    keys(Keys.HOME)
    landed = []
    for _ in range(len(tour) + 2):
        ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ARROW_RIGHT).key_up(Keys.SHIFT).perform()
        landed.append(frame())
    assert landed[:len(tour) - 1] == tour[1:]
    assert anim.phases[landed[len(tour) - 1]] == "sweep" and landed[-1] == len(anim) - 1
    ActionChains(d).key_down(Keys.SHIFT).send_keys(Keys.ARROW_LEFT).key_up(Keys.SHIFT).perform()
    assert frame() == sorted(set(landed))[-2]          # back to the sweep
    keys(Keys.END)
    assert frame() == len(anim) - 1

    # paused on a tour step, as a person would see it
    keys(Keys.HOME, Keys.ARROW_RIGHT)
    assert frame() == tour[1] and caption.text.startswith("tour 2 / ")
    np.testing.assert_array_equal(canvas_rgb(d, canvas), rgb(anim.frames[tour[1]]))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    assert root.screenshot(str(shots / "player_tour2.png"))
    from PIL import Image
    shot = np.asarray(Image.open(shots / "player_tour2.png").convert("RGB"))
    assert shot.shape[0] > 100 and shot.std() > 10                  # not blank

    # play again: frames advance by themselves, and the speed menu is honoured
    d.execute_script("arguments[0].value='2'; arguments[0].dispatchEvent(new Event('change'))",
                     d.find_element(By.CSS_SELECTOR, ".ndl-player select"))
    keys(" ")
    wait_for(lambda: frame() > tour[1], what="the player to advance")
    assert console_errors(d) == []


def test_the_mp4_plays_in_the_browser(tmp_path, anim, browser):
    pytest.importorskip("imageio_ffmpeg", reason="the video extra is not installed")
    h, w = anim.frames[0].shape
    anim.save(tmp_path / "a.mp4", min_height=2 * h)
    (tmp_path / "v.html").write_text('<video id="v" src="a.mp4" muted></video>')
    browser.get((tmp_path / "v.html").as_uri())
    js = "const v = document.getElementById('v'); return [v.readyState, v.videoWidth, " \
         "v.videoHeight, v.duration, v.error && v.error.code]"
    state = lambda: browser.execute_script(js)              # noqa: E731
    wait_for(lambda: state()[0] >= 1 or state()[4], what="the video's metadata")
    ready, vw, vh, duration, error = state()
    assert error is None and (vw, vh) == (2 * w + (2 * w) % 2, 2 * h + (2 * h) % 2)
    assert duration == pytest.approx(sum(anim.delays()) / 1000, abs=0.2)
    browser.execute_script("document.getElementById('v').play()")
    wait_for(lambda: browser.execute_script("return document.getElementById('v').currentTime")
             > 0.2, what="the video to play")


def test_without_a_browser_the_browser_tests_skip_in_one_line(monkeypatch):
    import browser
    monkeypatch.setattr(browser, "CHROMIUM", ("/nonexistent/chromium",))
    with pytest.raises(pytest.skip.Exception,
                       match=r"^no browser: apt-get install chromium chromium-driver$"):
        browser.need_browser()
