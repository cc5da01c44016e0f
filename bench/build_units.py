#!/usr/bin/env python3
"""How much of the README's test command recompiles what its build command compiled: compares
cargo's unit graphs (nightly, computed without compiling) of `cargo run --release -- demo` and
`cargo test --release --workspace`, and lists the test build's units that the run build did not
make (a unit is a crate compiled with given features and profile, on given dependencies).

Usage: python3 bench/build_units.py     (from the repository's root; needs `cargo +nightly`)
"""

import functools
import json
import subprocess
import sys


def graph(args):
    out = subprocess.run(["cargo", "+nightly", *args, "--unit-graph", "-Z", "unstable-options"],
                         capture_output=True, text=True)
    start = out.stdout.find("{")
    if start < 0:
        sys.exit(f"cargo {' '.join(args)}: no unit graph\n{out.stderr[-2000:]}")
    units = json.loads(out.stdout[start:])["units"]

    @functools.lru_cache(None)
    def key(i):
        u = units[i]
        return (u["pkg_id"].split("/")[-1].split("#")[-1], tuple(sorted(u["features"])),
                u["target"]["name"], tuple(u["target"]["kind"]), u["mode"],
                json.dumps(u["profile"], sort_keys=True),
                tuple(sorted(key(d["index"]) for d in u["dependencies"])))

    return [key(i) for i in range(len(units))]


def main():
    run = set(graph(["build", "--release"]))
    test = graph(["test", "--release", "--workspace", "--no-run"])
    again = [k for k in test if k not in run]
    names = sorted({k[0] for k in again})
    print(f"release build: {len(run)} units; test build: {len(test)} units, of which "
          f"{len(again)} are not in the release build ({len(names)} crates):")
    print(" ".join(names))


if __name__ == "__main__":
    main()
