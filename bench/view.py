"""Interactive maps at scale: file size, time to write, and time to the first frame in headless
Chromium for 10,000 / 100,000 / 1,000,000 points, `drlim view` beside `umap.plot.interactive`
(bokeh, resources inline so that both files open offline) on the same points.

    DRLIM_BIN=target/release/drlim python bench/view.py [--sizes 10000,100000,1000000]
        [--umap-timeout 600] [--markdown]

Needs: chromium and chromedriver (Debian), selenium; for the UMAP column umap-learn with its
plot extras (bokeh, datashader, holoviews, colorcet, scikit-image). The points: ten labelled
rings in 2-D; with `--thumbnails`, also a random 28×28 image per point (at most 200,000
thumbnails, drlim view's default)."""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "crates" / "drlim-cli" / "tests" / "browser"))
from view_browser import drlim_bin, start_browser  # noqa: E402


def points(n, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    r = 1 + 0.3 * rng.random(n)
    e = np.stack([labels * 3 + np.cos(angle) * r, np.sin(angle) * r * 2], 1).astype(np.float32)
    return e, labels


def first_frame_drlim(d, path, timeout):
    t = time.perf_counter()
    d.get(path.as_uri())
    while not d.execute_script("return !!(window.drlimView && window.drlimView.ready)"):
        if time.perf_counter() - t > timeout:
            return None
        time.sleep(0.02)
    return d.execute_script("return drlimView.firstFrameMs") / 1000


def interaction_drlim(d, frames=30):
    """Milliseconds per frame while zooming (a wheel event per frame, each followed by its
    redraw) and for one hover's pick (projecting every point, finding the nearest), on the page
    already open."""
    per_frame = d.execute_async_script("""
        const n = arguments[0], done = arguments[arguments.length - 1], c = document.getElementById('gl');
        let k = 0; const t0 = performance.now();
        function step() {
            if (k++ === n) { done((performance.now() - t0) / n); return; }
            c.dispatchEvent(new WheelEvent('wheel', {deltaY: k % 2 ? -60 : 60, clientX: 400, clientY: 300, bubbles: true}));
            requestAnimationFrame(() => requestAnimationFrame(step));
        }
        step();""", frames)
    pick = d.execute_async_script("""
        const done = arguments[0], c = document.getElementById('gl'), r = c.getBoundingClientRect();
        c.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + 400, clientY: r.top + 300, bubbles: true}));
        requestAnimationFrame(() => requestAnimationFrame(() => done(drlimView.pickMs)));""")
    return per_frame, pick


def first_frame_bokeh(d, path, timeout):
    """Seconds from navigation until bokeh reports its document idle (all views built and
    drawn: bokeh logs "document idle at N ms", timed from the navigation's start)."""
    t = time.perf_counter()
    d.get_log("browser")  # drop earlier messages
    d.get(path.as_uri())
    while time.perf_counter() - t < timeout:
        for entry in d.get_log("browser"):
            m = re.search(r"document idle at (\d+) ms", entry["message"])
            if m:
                return int(m.group(1)) / 1000
        time.sleep(0.05)
    return None


def write_umap_interactive(e, labels, out, timeout):
    """umap.plot.interactive on these points (a UMAP object holding them as its embedding),
    saved with bokeh's resources inline; None if it fails or takes longer than `timeout`."""
    code = f"""
import numpy as np, umap, umap.plot, bokeh.plotting, bokeh.resources
e = np.load({str(out.with_suffix('.e.npy'))!r}); y = np.load({str(out.with_suffix('.y.npy'))!r})
m = umap.UMAP(); m.embedding_ = e; m._raw_data = e; m._small_data = False
m._input_distance_func = None; m.metric = 'euclidean'; m._supervised = False
p = umap.plot.interactive(m, labels=y, hover_data=None, point_size=2)
bokeh.plotting.output_file({str(out)!r}, mode='inline')
bokeh.plotting.save(p, resources=bokeh.resources.INLINE)
"""
    np.save(out.with_suffix(".e.npy"), e)
    np.save(out.with_suffix(".y.npy"), labels)
    t = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"did not finish in {timeout} s"
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1][:120]
    return time.perf_counter() - t, None


def median(values):
    v = sorted(x for x in values if x is not None)
    return v[len(v) // 2] if v else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--umap-timeout", type=float, default=600)
    ap.add_argument("--page-timeout", type=float, default=300)
    ap.add_argument("--thumbnails", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="page loads per file (the median is kept)")
    ap.add_argument("--no-umap", action="store_true")
    a = ap.parse_args()
    d = start_browser()
    assert not isinstance(d, str), d
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # warm the browser up (its first page pays for starting its GPU process)
        e, y = points(1000)
        np.save(tmp / "w.npy", e)
        subprocess.run([drlim_bin(), "view", "--embedding", str(tmp / "w.npy"), "--out",
                        str(tmp / "w.html"), "-q"], check=True)
        first_frame_drlim(d, tmp / "w.html", a.page_timeout)
        for n in map(int, a.sizes.split(",")):
            e, y = points(n)
            np.save(tmp / "e.npy", e)
            np.save(tmp / "y.npy", y.astype(np.int64))
            args = [drlim_bin(), "view", "--embedding", tmp / "e.npy", "--labels", tmp / "y.npy",
                    "--out", tmp / "d.html", "-q"]
            if a.thumbnails:
                np.save(tmp / "x.npy", np.random.default_rng(1).integers(0, 256, (n, 28, 28), np.uint8))
                args += ["--data", tmp / "x.npy"]
            t = time.perf_counter()
            subprocess.run(list(map(str, args)), check=True)
            write_s = time.perf_counter() - t
            ff = median([first_frame_drlim(d, tmp / "d.html", a.page_timeout) for _ in range(a.repeat)])
            frame_ms, pick_ms = interaction_drlim(d)
            row = {"n": n, "drlim_mb": (tmp / "d.html").stat().st_size / 2**20, "drlim_write_s": write_s,
                   "drlim_first_frame_s": ff, "drlim_zoom_frame_ms": frame_ms, "drlim_pick_ms": pick_ms}
            u_s, why = (None, "not run") if a.no_umap else \
                write_umap_interactive(e, y, tmp / "u.html", a.umap_timeout)
            row["umap_write_s"], row["umap_note"] = u_s, why
            if u_s is not None:
                row["umap_mb"] = (tmp / "u.html").stat().st_size / 2**20
                row["umap_first_frame_s"] = median(
                    [first_frame_bokeh(d, tmp / "u.html", a.page_timeout) for _ in range(a.repeat)])
            print(row, flush=True)
            rows.append(row)
    d.quit()
    if a.markdown:
        print("\n| points | drlim view: file | write | first frame | frame while zooming | hover pick "
              "| umap.plot.interactive: file | write | first frame |")
        print("|---|---|---|---|---|---|---|---|---|")
        f = lambda v, fmt: "—" if v is None else format(v, fmt)  # noqa: E731
        for r in rows:
            um = (f"{f(r.get('umap_mb'), '.1f')} MB | {f(r['umap_write_s'], '.1f')} s | "
                  f"{f(r.get('umap_first_frame_s'), '.2f')} s") if r["umap_write_s"] is not None \
                else f"fails: {r['umap_note']} | | "
            print(f"| {r['n']:,} | {r['drlim_mb']:.1f} MB | {r['drlim_write_s']:.2f} s | "
                  f"{f(r['drlim_first_frame_s'], '.2f')} s | {r['drlim_zoom_frame_ms']:.0f} ms | "
                  f"{f(r['drlim_pick_ms'], '.0f')} ms | {um} |")


if __name__ == "__main__":
    main()
