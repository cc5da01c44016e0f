#!/usr/bin/env python3
"""Checks the relative links of the project's Markdown pages, offline: every link to a file
must name one that exists, and every anchor (`page.md#heading`, `#heading`) a heading of that
page, spelled as GitHub spells anchors. Web links are not fetched.

Usage: python3 docs/check_links.py [ROOT]    (exit 1 and one line per broken link if any)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PAGES = ["README.md", "BENCHMARKS.md", "research/*.md", "docs/**/*.md", "crates/*/README.md",
         "examples/*/README.md", "bench/*.md", "fuzz/README.md"]
LINK = re.compile(r"(?<!\\)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^()\s]+)(?:\s+\"[^\"]*\")?\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, spaces to
    hyphens."""
    text = re.sub(r"`|\*\*|\*|~~", "", heading.strip()).lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(text: str):
    """The page's headings, outside fenced code blocks."""
    fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)):
            yield m.group(1)


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings (a repeated heading's get -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for heading in headings(page.read_text(encoding="utf-8")):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken(root: Path) -> list[str]:
    pages = sorted({p for pattern in PAGES for p in root.glob(pattern) if "target" not in p.parts})
    cache: dict[Path, set[str]] = {}
    problems = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        fence = False
        for number, line in enumerate(text.split("\n"), 1):
            if line.lstrip().startswith("```"):
                fence = not fence
            if fence or line.lstrip().startswith("```"):
                continue
            for target in LINK.findall(re.sub(r"`[^`]*`", "``", line)):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, mailto: ...
                    continue
                path, _, anchor = target.partition("#")
                dest = (page.parent / path).resolve() if path else page
                where = f"{page.relative_to(root)}:{number}"
                if not dest.exists():
                    problems.append(f"{where}: {target}: no such file")
                elif anchor and dest.suffix == ".md":
                    known = cache.setdefault(dest, anchors(dest))
                    if anchor not in known:
                        problems.append(f"{where}: {target}: no heading '#{anchor}' in {path or page.name}")
    return problems


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    problems = broken(root)
    for p in problems:
        print(p)
    print(f"links: {'broken: ' + str(len(problems)) if problems else 'all resolve'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
