#!/usr/bin/env python3
"""Runs every example of the README and the guide, so that a documented command cannot break
silently: each fenced block marked `sh` runs in bash, each marked `python` in this Python (with
drlim's package installed), in the order they appear, in one scratch directory per page that
holds the small files the examples name (digits, vectors, embeddings, rendered airplane views).
A block fails the run when it exits non-zero or raises. Blocks of other languages (`text`,
plain output) are not programs and are not run; a `rust` block is run by `cargo test --doc`
when it is the engine's crate documentation, which the page then says.

A block may be preceded by a directive (an HTML comment, invisible on GitHub):
  <!-- example: skip (REASON) -->   not run here, and REASON says what runs it instead
  <!-- example: expect-fail -->     must exit non-zero (a documented error)
  <!-- example: doctest FILE -->    a Rust block that must appear, line for line, in a doc test
                                    of FILE (which `cargo test --doc` runs)

Usage: python docs/run_examples.py [--bin DIR] [--keep] README.md docs/guide/*.md
  --bin DIR: where the `drlim` binary is (default: target/release)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\S*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*example:\s*(skip|expect-fail|doctest)\b\s*(.*?)\s*-->\s*$")


def blocks(page: Path):
    """(line, language, directive, code) of each fenced block of `page`."""
    lines = page.read_text(encoding="utf-8").split("\n")
    i, directive = 0, None
    while i < len(lines):
        m = FENCE.match(lines[i])
        d = DIRECTIVE.match(lines[i])
        if d:
            directive = (d.group(1), d.group(2))
        elif m:
            lang, start = m.group(1), i
            i += 1
            code = []
            while i < len(lines) and not lines[i].startswith("```"):
                code.append(lines[i])
                i += 1
            yield start + 1, lang, directive, "\n".join(code) + "\n"
            directive = None
        elif lines[i].strip():
            directive = None if not lines[i].startswith("<!--") else directive
        i += 1


def make_files(where: Path, drlim: Path):
    """The files the examples name: MNIST digits as u8 NPY (train/test, images and labels),
    vectors as CSV, unit-norm embeddings, and the rendered airplane views with their poses."""
    import numpy as np

    import drlim as package

    X, y = package.load_digits()
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    tr, te = idx[:600], idx[600:800]
    for name, rows in (("train", tr), ("test", te)):
        np.save(where / f"{name}.npy", X[rows])
        np.save(where / f"{name}_labels.npy", y[rows].astype(np.int64))
    np.save(where / "images.npy", X[tr])
    np.save(where / "my_images.npy", X[tr])
    flat = X[tr].reshape(len(tr), -1).astype(np.float32)
    np.savetxt(where / "vectors.csv", flat[:, ::16], delimiter=",", fmt="%g")
    emb = rng.normal(size=(600, 64)).astype(np.float32) + np.repeat(rng.normal(size=(6, 64)), 100, 0)
    np.save(where / "embeddings.npy", emb / np.linalg.norm(emb, axis=1, keepdims=True))
    subprocess.run([str(drlim), "render", "airplane", "--out", str(where / "airplane")],
                   check=True, stdout=subprocess.DEVNULL)
    (where / "views.npy").symlink_to(Path("airplane") / "images.npy")
    (where / "poses.csv").symlink_to(Path("airplane") / "metadata.csv")


def doc_test_lines(path: Path) -> str:
    """The code of `path`'s doc tests (`//!` and `///` comments), hidden lines dropped."""
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        m = re.match(r"^\s*//[/!] ?(.*)$", line)
        if m and not m.group(1).startswith("# "):
            out.append(m.group(1))
    return "\n".join(out)


def doctests(page: Path) -> list[str]:
    """The page's Rust blocks marked `doctest FILE` that are not, line for line, in FILE."""
    failures = []
    for line, lang, directive, code in blocks(page):
        if directive and directive[0] == "doctest":
            where = f"{page.relative_to(ROOT)}:{line}"
            if code.strip() in doc_test_lines(ROOT / directive[1]):
                print(f"{where}: {lang} is a doc test of {directive[1]}")
            else:
                failures.append(where)
                print(f"{where}: FAILED: not a doc test of {directive[1]} (they have drifted apart)")
    return failures


def run(page: Path, bindir: Path, keep: bool, fixtures: dict) -> list[str]:
    """Runs `page`'s blocks in a scratch copy of the fixtures (made once, on the first page
    that needs them, in `fixtures["dir"]`)."""
    failures = doctests(page)
    todo = [b for b in blocks(page) if b[1] in ("sh", "bash", "python")]
    if not todo:
        return failures
    if "dir" not in fixtures:
        fixtures["dir"] = Path(tempfile.mkdtemp(prefix="drlim-example-files-"))
        make_files(fixtures["dir"], bindir / "drlim")
    scratch = Path(tempfile.mkdtemp(prefix="drlim-examples-")) / "page"
    shutil.copytree(fixtures["dir"], scratch, symlinks=True)
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", MPLBACKEND="Agg")
    for line, lang, directive, code in todo:
        where = f"{page.relative_to(ROOT)}:{line}"
        directive = directive and directive[0]
        if directive == "skip":
            print(f"{where}: skipped (its directive names what runs it)")
            continue
        cmd = ["bash", "-euo", "pipefail", "-c", code] if lang != "python" else [sys.executable, "-c", code]
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True)
        ok = (done.returncode != 0) if directive == "expect-fail" else (done.returncode == 0)
        print(f"{where}: {lang} {'ok' if ok else 'FAILED'} in {time.perf_counter() - t0:.1f} s")
        if not ok:
            failures.append(where)
            print((done.stdout + done.stderr)[-3000:])
    if keep:
        print(f"  (files of {page.name} kept in {scratch})")
    else:
        shutil.rmtree(scratch.parent)
    return failures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("pages", nargs="+", type=Path)
    p.add_argument("--bin", type=Path, default=ROOT / "target" / "release")
    p.add_argument("--keep", action="store_true", help="keep the scratch directories")
    args = p.parse_args()
    failures, fixtures = [], {}
    for page in args.pages:
        failures += run(page.resolve(), args.bin.resolve(), args.keep, fixtures)
    if "dir" in fixtures:
        shutil.rmtree(fixtures["dir"])
    print(f"examples: {'FAILED: ' + ', '.join(failures) if failures else 'all ran'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
