"""The maps `drlim view` writes, opened in headless Chromium: they load without console errors,
draw, show the hovered sample's thumbnail and label, hide a category whose legend entry is
clicked, switch layers, turn in 3-D, select with the lasso and search; a million points load and
the time to their first frame is printed (measured, not asserted).

Run: DRLIM_BIN=target/release/drlim python -m pytest -s crates/drlim-cli/tests/browser
Screenshots: python crates/drlim-cli/tests/browser/test_view_in_browser.py MAP.html SHOT.png"""

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from view_browser import drlim, start_browser  # noqa: E402


# without Chromium, its driver or Selenium the tests are skipped, unless DRLIM_REQUIRE_BROWSER=1
# (as in CI), where that is a failure
@pytest.fixture(scope="session")
def browser():
    d = start_browser()
    if isinstance(d, str):
        if os.environ.get("DRLIM_REQUIRE_BROWSER") == "1":
            pytest.fail(d)
        pytest.skip(d)
    yield d
    d.quit()


# the blobs of the test map: four clusters of 250 points at the corners, one lone point (999)
# in the middle; label = cluster
CORNERS = [(-10, -10), (10, -10), (-10, 10), (10, 10)]
LONE = 999
TAB10_RED = (214, 39, 40)  # the palette's colour of the fourth category


def blobs(tmp: Path):
    rng = np.random.default_rng(0)
    coords = np.concatenate([rng.normal(c, 1.0, (250, 2)) for c in CORNERS]).astype(np.float32)
    labels = np.repeat(np.arange(4), 250)
    coords[LONE] = (0, 0)
    # 8×8 images whose pixels are distinct per point: thumbnails can be checked exactly
    images = rng.integers(0, 256, (1000, 8, 8)).astype(np.float32)
    images[:, 0, 0], images[:, 0, 1] = 0, 255  # every image spans 0-255: the scale is exact
    np.save(tmp / "e.npy", coords)
    np.save(tmp / "x.npy", images)
    np.savetxt(tmp / "y.csv", labels, fmt="%d")
    (tmp / "meta.csv").write_text(
        "parity,angle\n" + "".join(f"{'even' if l % 2 == 0 else 'odd'},{i % 360}\n"
                                   for i, l in enumerate(labels)))
    rng2 = np.random.default_rng(1)
    new = np.concatenate([rng2.normal(c, 1.0, (25, 2)) for c in CORNERS]).astype(np.float32)
    np.save(tmp / "new.npy", new)
    np.savetxt(tmp / "ynew.csv", np.repeat(np.arange(4), 25), fmt="%d")
    return coords, labels, images


@pytest.fixture(scope="module")
def blob_map(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("view")
    coords, labels, images = blobs(tmp)
    out = tmp / "blobs.html"
    r = drlim("view", "--embedding", tmp / "e.npy", "--labels", tmp / "y.csv", "--meta",
              tmp / "meta.csv", "--circular", "angle=360", "--data", tmp / "x.npy", "--new",
              tmp / "new.npy", "--new-labels", tmp / "ynew.csv", "--out", out, "--title", "blobs")
    assert r.returncode == 0, r.stderr
    return out, coords, labels, images


def open_map(d, path: Path, timeout: float = 300.0) -> float:
    t = time.perf_counter()
    d.get(path.as_uri())
    while not d.execute_script("return !!(window.drlimView && window.drlimView.ready)"):
        assert time.perf_counter() - t < timeout, "the map never drew its first frame"
        time.sleep(0.02)
    return time.perf_counter() - t


def view_and_open(d, out: Path, *args):
    """Runs `drlim view ARGS --out OUT` and opens the map."""
    r = drlim("view", *args, "--out", out)
    assert r.returncode == 0, r.stderr
    open_map(d, out)


def settle(d):
    """Waits for two animation frames (the viewer draws on the next one)."""
    d.execute_async_script(
        "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(done));")


def count_pixels(d, rgb=None) -> int:
    """Pixels of the map's canvas that are not white, or that are exactly `rgb`."""
    return d.execute_script("""
        const c = document.getElementById('gl'), o = document.createElement('canvas');
        o.width = c.width; o.height = c.height;
        const x = o.getContext('2d'); x.drawImage(c, 0, 0);
        const p = x.getImageData(0, 0, o.width, o.height).data, want = arguments[0];
        let n = 0;
        for (let i = 0; i < p.length; i += 4) {
            if (want ? (p[i] === want[0] && p[i + 1] === want[1] && p[i + 2] === want[2])
                     : (p[i] < 250 || p[i + 1] < 250 || p[i + 2] < 250)) n++;
        }
        return n;""", list(rgb) if rgb else None)


def errors(d):
    return [e for e in d.get_log("browser") if e["level"] == "SEVERE"]


def move_to(d, x, y):
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    a = ActionBuilder(d)
    a.pointer_action.move_to_location(int(round(x)), int(round(y)))
    a.perform()


def set_range(d, element_id, value):
    d.execute_script("const e = document.getElementById(arguments[0]); e.value = arguments[1];"
                     "e.dispatchEvent(new Event('input'));", element_id, value)


def test_loads_draws_and_shows_the_hovered_sample(browser, blob_map):
    path, coords, labels, images = blob_map
    d = browser
    open_map(d, path)
    assert errors(d) == []
    assert count_pixels(d) > 1000, "the canvas is blank"
    x, y = d.execute_script("return drlimView.screenOf(0, arguments[0])", LONE)
    move_to(d, x, y)
    card = d.find_element("id", "card")
    t = time.perf_counter()
    while not card.is_displayed() and time.perf_counter() - t < 10:
        time.sleep(0.05)
    text = d.find_element("id", "card-text").text
    assert f"training #{LONE}" in text and f"label: {labels[LONE]}" in text, text
    assert "parity: odd" in text and "angle: 279" in text, text
    # the thumbnail is the sample itself: 8×8 pixels drawn ×4, grey 0-255 as stored
    for _ in range(100):
        thumb = d.execute_script("""
            const c = document.getElementById('card-thumb'), x = c.getContext('2d');
            const p = x.getImageData(0, 0, c.width, c.height).data, out = [];
            for (let y = 0; y < 8; y++) for (let x2 = 0; x2 < 8; x2++) out.push(p[((y * 4 + 2) * c.width + x2 * 4 + 2) * 4]);
            return [c.width, out];""")
        if thumb[0] == 32 and any(thumb[1]):
            break
        time.sleep(0.05)
    assert thumb[0] == 32
    assert thumb[1] == images[LONE].astype(int).ravel().tolist()
    assert errors(d) == []


def test_a_vector_sample_shows_its_chosen_values(browser, tmp_path):
    coords = np.array([[0, 0], [5, 5], [-5, 5]], np.float32)
    vectors = np.arange(3 * 30, dtype=np.float32).reshape(3, 30) / 4
    np.save(tmp_path / "e.npy", coords)
    np.save(tmp_path / "v.npy", vectors)
    d = browser
    view_and_open(d, tmp_path / "v.html", "--embedding", tmp_path / "e.npy", "--data",
                  tmp_path / "v.npy", "--show-values", "3,29")
    move_to(d, *d.execute_script("return drlimView.screenOf(0, 1)"))
    t = time.perf_counter()
    while "#1" not in d.find_element("id", "card-text").text and time.perf_counter() - t < 10:
        time.sleep(0.05)
    text = d.find_element("id", "card-text").text
    assert "training #1" in text and "x3=8.25, x29=14.75 (2 of 30 values)" in text, text
    assert errors(d) == []


def test_a_legend_entry_hides_its_points_and_layers_switch(browser, blob_map):
    path, *_ = blob_map
    d = browser
    open_map(d, path)
    set_range(d, "opacity", 1)
    settle(d)
    red = count_pixels(d, TAB10_RED)
    assert red > 200, f"category 3 is drawn in red ({red} pixels)"
    d.find_element("css selector", '#legend .entry[data-category="3"]').click()
    settle(d)
    assert count_pixels(d, TAB10_RED) == 0
    assert "off" in d.find_element("css selector", '#legend .entry[data-category="3"]').get_attribute("class")
    d.find_element("css selector", '#legend .entry[data-category="3"]').click()
    settle(d)
    assert count_pixels(d, TAB10_RED) == red
    # the out-of-sample layer (rings) on and off
    with_new = count_pixels(d)
    d.find_element("css selector", '#layers input[data-layer="new"]').click()
    settle(d)
    assert count_pixels(d) < with_new
    assert errors(d) == []


def test_the_lasso_selects_one_cluster_and_search_finds(browser, blob_map):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    path, coords, labels, _ = blob_map
    d = browser
    open_map(d, path)
    d.find_element("css selector", '#layers input[data-layer="new"]').click()  # training only
    cluster = [i for i in range(1000) if labels[i] == 1 and i != LONE]
    pts = np.array(d.execute_script("return arguments[0].map(i => drlimView.screenOf(0, i))", cluster))
    (x0, y0), (x1, y1) = pts.min(0) - 12, pts.max(0) + 12
    canvas = d.find_element("id", "gl")
    r = d.execute_script("return document.getElementById('gl').getBoundingClientRect().toJSON()")
    ox, oy = r["left"] + r["width"] / 2, r["top"] + r["height"] / 2  # offsets are from the centre
    a = ActionChains(d).key_down(Keys.SHIFT)
    a.move_to_element_with_offset(canvas, int(x0 - ox), int(y0 - oy)).click_and_hold()
    for (x, y) in [(x1, y0), (x1, y1), (x0, y1), (x0, y0 + 2)]:
        a.move_to_element_with_offset(canvas, int(x - ox), int(y - oy))
    a.release().key_up(Keys.SHIFT).perform()
    sel = d.execute_script("return drlimView.selection()")
    assert sel["training"] == sorted(cluster)
    assert d.execute_script("return drlimView.selectionCsv()").splitlines()[:2] == ["layer,index", f"training,{cluster[0]}"]
    assert d.find_element("id", "sel-count").text.startswith(f"{len(cluster)} selected")
    search = d.find_element("id", "search")
    search.send_keys("42", Keys.ENTER)
    assert d.execute_script("return drlimView.selection()")["training"] == [42]
    search.clear()
    search.send_keys("odd", Keys.ENTER)
    odd = d.execute_script("return drlimView.selection()")
    assert odd["training"] == [i for i in range(1000) if labels[i] % 2 == 1]
    assert errors(d) == []


def test_a_3d_drag_turns_the_map(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 3000)
    cyl = np.stack([np.cos(t), np.sin(t), rng.uniform(-1, 1, 3000)], 1).astype(np.float32)
    np.save(tmp_path / "c.npy", cyl)
    (tmp_path / "m.csv").write_text("azimuth\n" + "".join(f"{np.degrees(a):.1f}\n" for a in t))
    d = browser
    view_and_open(d, tmp_path / "cyl.html", "--embedding", tmp_path / "c.npy", "--meta",
                  tmp_path / "m.csv", "--circular", "azimuth=360")
    assert d.find_element("css selector", "#legend .wheel").is_displayed()
    before = d.execute_script("return drlimView.camera()")
    shot = d.get_screenshot_as_png()
    canvas = d.find_element("id", "gl")
    ActionChains(d).move_to_element(canvas).click_and_hold().move_by_offset(120, 40).release().perform()
    settle(d)
    after = d.execute_script("return drlimView.camera()")
    assert after["yaw"] != before["yaw"] and after["pitch"] != before["pitch"]
    assert d.get_screenshot_as_png() != shot
    assert errors(d) == []


def test_a_million_points_load_and_draw(browser, tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    coords = np.stack([labels * 3 + np.cos(angle) * (1 + rng.random(n)), np.sin(angle) * 2], 1)
    np.save(tmp_path / "e.npy", coords.astype(np.float32))
    np.save(tmp_path / "y.npy", labels.astype(np.int64))
    out = tmp_path / "million.html"
    t = time.perf_counter()
    r = drlim("view", "--embedding", tmp_path / "e.npy", "--labels", tmp_path / "y.npy", "--out", out)
    written = time.perf_counter() - t
    assert r.returncode == 0, r.stderr
    loaded = open_map(browser, out)
    first = browser.execute_script("return drlimView.firstFrameMs")
    assert count_pixels(browser) > 10000
    assert errors(browser) == []
    print(f"\n1,000,000 points: file {out.stat().st_size / 2**20:.1f} MB written in {written:.1f} s; "
          f"first frame {first / 1000:.2f} s after navigation ({loaded:.2f} s seen by the test)")


def screenshot(html: Path, png: Path, hover=None, colour=None, turn=None):
    """A screenshot of a map as the README shows it: optionally coloured by a column, turned
    (3-D: yaw, pitch in radians) and with a point hovered ("layer:index")."""
    d = start_browser()
    assert not isinstance(d, str), d
    try:
        open_map(d, html.resolve())
        assert errors(d) == []
        if colour:
            d.execute_script("drlimView.setColourBy(arguments[0])", colour)
        if turn:
            d.execute_script("drlimView.turn(arguments[0], arguments[1])", *turn)
        settle(d)
        if hover:
            layer, i = map(int, hover.split(":"))
            move_to(d, *d.execute_script("return drlimView.screenOf(arguments[0], arguments[1])", layer, i))
            time.sleep(0.5)
            settle(d)
        d.save_screenshot(str(png))
    finally:
        d.quit()


if __name__ == "__main__":
    # python test_view.py MAP.html SHOT.png [--hover LAYER:INDEX] [--colour NAME] [--turn YAW,PITCH]
    import argparse
    ap = argparse.ArgumentParser(description="a screenshot of a drlim map")
    ap.add_argument("html", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--hover")
    ap.add_argument("--colour")
    ap.add_argument("--turn", type=lambda s: tuple(map(float, s.split(","))))
    a = ap.parse_args()
    screenshot(a.html, a.png, a.hover, a.colour, a.turn)
    print("wrote", a.png)
