"""drlim from Python beside the command line and beside UMAP and openTSNE, on the built-in 4-vs-9
split (1,370 train / 588 test, as `drlim experiment mnist-4-9` splits them).

    python crates/drlim-py/bench/compare.py speed  [--rounds 3] [--epochs 20]
    python crates/drlim-py/bench/compare.py peers
    python crates/drlim-py/bench/compare.py onnx   [--rounds 3]
    python crates/drlim-py/bench/compare.py calls  [--rounds 3]

`speed`: the same fit (the paper's convnet, --epochs, seed 0, 2 threads) from the command line
and from Python, alternated --rounds times, wall time each; then transform throughput from
Python (20,000 images, C-contiguous float32 and uint8) beside `drlim bench`'s inference figure
measured in the same run. `peers`: fit time, transform time per 1,000 points, test 5-NN
accuracy (a 5-NN classifier on the train map, scored on the test map) and trustworthiness@10
(test map against test pixels) for drlim's paper defaults, drlim's declared invariances, UMAP
and openTSNE (umap-learn and openTSNE must be installed). `onnx`: `drlim export`'s wall time,
and ONNX Runtime's throughput on the exported graph (2 intra-op threads, raw float32 pixels in)
beside drlim's `transform` (2 threads) on the same 20,000 digits, then in calls of 256 of them,
alternated, for the convnet and an MLP (onnxruntime must be installed). `calls`: the calls of 256
digits again, each side in a process of its own (alternated, --rounds each): in one process, ORT's
intra-op threads spin on after its calls and slow whatever runs next. Prints one line per measurement.
"""

import argparse
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.manifold import trustworthiness
from sklearn.neighbors import KNeighborsClassifier

import drlim

REPO = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(os.environ.get("DRLIM_BIN", REPO / "target" / "release" / "drlim"))


def split():
    X, y = drlim.load_digits((4, 9))
    n = int(0.7 * len(X))
    return X[:n], y[:n], X[n:], y[n:]


def cpu():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return re.search(r"Model name:\s*(.+)", out).group(1).strip()
    except Exception:
        return "unknown CPU"


def best_rate(fn, items, warm=True, calls=3):
    """Items per second of the fastest of `calls` calls of `fn` (after one warm-up call)."""
    if warm:
        fn()
    best = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t)
    return items / min(best)


def speed(rounds, epochs):
    Xtr, _, _, _ = split()
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "train.npy"
        np.save(data, Xtr)
        cli_t, py_t = [], []
        for r in range(rounds):
            t = time.perf_counter()
            subprocess.run(
                [str(BIN), "--threads", "2", "fit", "--data", str(data), "--net", "conv",
                 "--epochs", str(epochs), "--seed", "0", "--checkpoint-every", "0",
                 "--model-out", f"{tmp}/m", "-q"],
                check=True,
            )
            cli_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            drlim.DrLIM(net="conv", epochs=epochs, random_state=0, n_jobs=2).fit(Xtr)
            py_t.append(time.perf_counter() - t)
            print(f"round {r + 1}: fit {epochs} epochs: cli {cli_t[-1]:.2f} s, python {py_t[-1]:.2f} s", flush=True)
        print(
            f"fit (conv, {len(Xtr)} digits, {epochs} epochs, 2 threads): cli median {np.median(cli_t):.2f} s, "
            f"python median {np.median(py_t):.2f} s, python/cli {np.median(py_t) / np.median(cli_t):.3f}",
            flush=True,
        )
    for net, kw in [("conv", {}), ("mlp", {"hidden": (256, 256)})]:
        est = drlim.DrLIM(net=net, epochs=1, random_state=0, n_jobs=2, **kw).fit(Xtr[:200])
        big = np.ascontiguousarray(np.resize(Xtr, (20000, 28, 28)))
        if net == "mlp":
            big = big.reshape(20000, 784)
        f32 = big.astype(np.float32)
        py, py8, cli = [], [], []
        # alternated, so that a noisy neighbour on the machine hits both alike
        for _ in range(rounds):
            for name, x, into in [("float32", f32, py), ("uint8", big, py8)]:
                est.transform(x[:2000])  # warm up
                into.append(best_rate(lambda: est.transform(x), len(x), warm=False))
            out = subprocess.run(
                [str(BIN), "--threads", "2", "bench", "--net", net, "--batches", "32",
                 "--infer-batch", "1024", "--seconds", "3", "--warmup", "1"],
                capture_output=True, text=True, check=True,
            ).stdout
            cli.append(float(re.search(r"infer_img_per_s=(\d+)", out).group(1)))
        ratios = [p / c for p, c in zip(py, cli)]
        print(
            f"transform {net} (20,000 samples, 2 threads, {rounds} alternated rounds, medians): "
            f"python float32 {np.median(py):,.0f} img/s, uint8 {np.median(py8):,.0f} img/s; "
            f"drlim bench {np.median(cli):,.0f} img/s; python/bench per round {', '.join(f'{r:.3f}' for r in ratios)}",
            flush=True,
        )


def score(Ytr, ytr, Yte, yte, Xte):
    acc = KNeighborsClassifier(5).fit(Ytr, ytr).score(Yte, yte)
    tw = trustworthiness(Xte.reshape(len(Xte), -1).astype(np.float32) / 255, Yte, n_neighbors=10)
    return acc, tw


def peers():
    Xtr, ytr, Xte, yte = split()
    flat_tr = Xtr.reshape(len(Xtr), -1).astype(np.float32) / 255
    flat_te = Xte.reshape(len(Xte), -1).astype(np.float32) / 255

    def run(name, fit, transform):
        t = time.perf_counter()
        Ytr = fit()
        fit_s = time.perf_counter() - t
        t = time.perf_counter()
        Yte = transform()
        tr_s = time.perf_counter() - t
        acc, tw = score(np.asarray(Ytr), ytr, np.asarray(Yte), yte, Xte)
        print(
            f"{name}: fit {fit_s:.1f} s, transform {1000 * tr_s / len(Xte):.3f} s per 1,000, "
            f"5-NN accuracy {acc:.3f}, trustworthiness {tw:.3f}",
            flush=True,
        )

    paper = drlim.DrLIM(net="conv", random_state=0, n_jobs=2)
    run("drlim paper defaults (conv, 80 epochs)", lambda: paper.fit_transform(Xtr), lambda: paper.transform(Xte))
    inv = drlim.DrLIM(
        hidden=(512, 512, 512, 512), n_neighbors=15, augment="shift=2,rotate=10,scale=0.1,shear=0.1,elastic=1",
        negatives="batch", loss="cauchy-infonce", batch_size=256, epochs=72,
        learning_rate=0.2, learning_rate_decay=0.93 ** (1 / 3), random_state=0, n_jobs=2,
    )
    run("drlim declared invariances (mlp 512 x 4, 72 epochs)", lambda: inv.fit_transform(Xtr), lambda: inv.transform(Xte))
    import umap  # noqa: E402

    u = umap.UMAP(random_state=0, n_jobs=1)
    run(f"UMAP {umap.__version__}", lambda: u.fit_transform(flat_tr), lambda: u.transform(flat_te))
    import openTSNE  # noqa: E402

    box = {}

    def tsne_fit():
        box["e"] = openTSNE.TSNE(random_state=0, n_jobs=2).fit(flat_tr)
        return np.asarray(box["e"])

    run(f"openTSNE {openTSNE.__version__}", tsne_fit, lambda: box["e"].transform(flat_te))


def onnx(rounds):
    import onnxruntime as ort

    Xtr, _, _, _ = split()
    with tempfile.TemporaryDirectory() as tmp:
        for net, kw in [("conv", {}), ("mlp", {"hidden": (256, 256)})]:
            est = drlim.DrLIM(net=net, epochs=1, random_state=0, n_jobs=2, **kw).fit(Xtr[:200])
            est.save(f"{tmp}/{net}")
            export = []
            for _ in range(5):
                t = time.perf_counter()
                subprocess.run([str(BIN), "export", "--model", f"{tmp}/{net}", "--out", f"{tmp}/{net}.onnx", "-q"],
                               check=True)
                export.append(time.perf_counter() - t)
            size = os.path.getsize(f"{tmp}/{net}.onnx")
            print(f"export {net}: drlim export median {np.median(export) * 1000:.1f} ms wall "
                  f"(process start included), {size:,} bytes", flush=True)
            options = ort.SessionOptions()
            options.intra_op_num_threads = 2
            session = ort.InferenceSession(f"{tmp}/{net}.onnx", options, providers=["CPUExecutionProvider"])
            # the graph takes the training shape (here 28×28 for both nets)
            f32 = np.ascontiguousarray(np.resize(Xtr, (20000, 28, 28))).astype(np.float32)
            np.testing.assert_allclose(session.run(None, {"input": f32[:500]})[0], est.transform(f32[:500]),
                                       rtol=1e-5, atol=1e-5)
            ours, theirs = [], []
            for _ in range(rounds):
                for into, fn in [(ours, lambda: est.transform(f32)),
                                 (theirs, lambda: session.run(None, {"input": f32}))]:
                    into.append(best_rate(fn, len(f32)))
            ratios = [a / b for a, b in zip(ours, theirs)]
            print(
                f"inference {net} (20,000 samples, 2 threads, {rounds} alternated rounds, medians): "
                f"drlim transform {np.median(ours):,.0f} img/s, ONNX Runtime {ort.__version__} "
                f"{np.median(theirs):,.0f} img/s; drlim/ORT per round {', '.join(f'{r:.2f}' for r in ratios)}",
                flush=True,
            )
            # small calls: 200 calls of 256 rows each, as a loop over small batches makes them
            small = f32[:256]
            ours, theirs = [], []
            for _ in range(rounds):
                for into, fn in [(ours, lambda: [est.transform(small) for _ in range(200)]),
                                 (theirs, lambda: [session.run(None, {"input": small}) for _ in range(200)])]:
                    into.append(best_rate(fn, 200 * len(small), calls=1))
            ratios = [a / b for a, b in zip(ours, theirs)]
            print(
                f"inference {net} (calls of 256 samples, 2 threads, {rounds} alternated rounds, medians): "
                f"drlim transform {np.median(ours):,.0f} img/s, ONNX Runtime {np.median(theirs):,.0f} img/s; "
                f"drlim/ORT per round {', '.join(f'{r:.2f}' for r in ratios)}",
                flush=True,
            )


def calls(rounds):
    """Per net, --rounds alternated processes of each side timing 9 rounds of 200 calls of 256."""
    for net in ["conv", "mlp"]:
        got = {"drlim": [], "ort": []}
        for _ in range(rounds):
            for who in got:
                out = subprocess.run([sys.executable, __file__, "_calls", who, net], check=True,
                                     capture_output=True, text=True).stdout
                got[who].append(float(out.split()[-1]))
        ratios = [t / d for d, t in zip(got["drlim"], got["ort"])]
        print(f"calls of 256 samples, {net}, 2 threads, each side in its own process ({rounds} alternated, "
              f"median µs per call of 9 rounds of 200): drlim {', '.join(f'{v:.0f}' for v in got['drlim'])}; "
              f"ORT {', '.join(f'{v:.0f}' for v in got['ort'])}; drlim/ORT speed {', '.join(f'{r:.2f}' for r in ratios)}",
              flush=True)


def calls_alone(who, net):
    """One side's median µs per call of 256 digits (9 rounds of 200 calls, after 20 to warm up)."""
    Xtr, _, _, _ = split()
    kw = {"hidden": (256, 256)} if net == "mlp" else {}
    est = drlim.DrLIM(net=net, epochs=1, random_state=0, n_jobs=2, **kw).fit(Xtr[:200])
    small = np.ascontiguousarray(np.resize(Xtr, (256, 28, 28))).astype(np.float32)
    fn = lambda: est.transform(small)
    if who == "ort":
        import onnxruntime as ort

        tmp = tempfile.mkdtemp()
        est.export_onnx(f"{tmp}/m.onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        session = ort.InferenceSession(f"{tmp}/m.onnx", options, providers=["CPUExecutionProvider"])
        fn = lambda: session.run(None, {"input": small})
    for _ in range(20):
        fn()
    per_call = []
    for _ in range(9):
        t = time.perf_counter()
        for _ in range(200):
            fn()
        per_call.append((time.perf_counter() - t) / 200 * 1e6)
    print(np.median(per_call))


def main():
    if sys.argv[1:2] == ["_calls"]:
        return calls_alone(*sys.argv[2:4])
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["speed", "peers", "onnx", "calls"])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=20)
    a = p.parse_args()
    print(f"# {cpu()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}, drlim {drlim.__version__}", flush=True)
    if a.what == "speed":
        speed(a.rounds, a.epochs)
    elif a.what == "onnx":
        onnx(a.rounds)
    elif a.what == "calls":
        calls(a.rounds)
    else:
        peers()


if __name__ == "__main__":
    main()
