"""What users of a long-running estimator expect: the GIL released while it works, Ctrl-C,
progress, reproducibility, and a process that forks afterwards."""

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from drlim import DrLIM

from conftest import blobs


def test_the_gil_is_released_while_fitting_and_transforming():
    X, _ = blobs(n=600, d=50)
    est = DrLIM(hidden=(256, 256), epochs=15, random_state=0, n_jobs=1)
    ticks = []
    done = threading.Event()

    def count():
        # Python work in another thread: it advances only while fit does not hold the GIL
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        before = len(ticks)
        est.fit(X)
        during_fit = len(ticks) - before
        before = len(ticks)
        big = np.repeat(X, 100, axis=0)
        est.transform(big)
        during_transform = len(ticks) - before
    finally:
        done.set()
        t.join()
    assert during_fit > 20, during_fit
    assert during_transform > 5, during_transform


def test_verbose_prints_one_line_per_epoch(capsys):
    X, _ = blobs()
    DrLIM(hidden=(8,), epochs=3, verbose=True, random_state=0).fit(X)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("epoch ")]
    assert [l.split()[1] for l in lines] == ["1/3", "2/3", "3/3"]
    assert "loss" in lines[0] and "/s)" in lines[0]


def test_same_random_state_and_n_jobs_give_bit_identical_maps():
    X, _ = blobs()
    a = DrLIM(hidden=(16,), epochs=4, random_state=5, n_jobs=2).fit_transform(X)
    b = DrLIM(hidden=(16,), epochs=4, random_state=5, n_jobs=2).fit_transform(X)
    c = DrLIM(hidden=(16,), epochs=4, random_state=6, n_jobs=2).fit_transform(X)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    # a RandomState draws the seed: the same state, the same map
    d = DrLIM(hidden=(16,), epochs=4, random_state=np.random.RandomState(1)).fit_transform(X)
    e = DrLIM(hidden=(16,), epochs=4, random_state=np.random.RandomState(1)).fit_transform(X)
    assert np.array_equal(d, e)


CTRL_C = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from drlim import DrLIM
    X = np.random.default_rng(0).normal(size=(2000, 40)).astype(np.float32)
    est = DrLIM(hidden=(256, 256), epochs=100000, verbose=True, random_state=0, n_jobs=1)
    try:
        est.fit(X)
    except KeyboardInterrupt:
        fitted = hasattr(est, "embedding_") or est.__sklearn_is_fitted__()
        print(f"KeyboardInterrupt fitted={fitted}", flush=True)
        sys.exit(0)
    print("fit ended without interruption", flush=True)
    sys.exit(1)
    """
)


def test_ctrl_c_stops_fit_promptly_and_leaves_it_unfitted():
    p = subprocess.Popen(
        [sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # wait for training to be under way (an epoch line), then press Ctrl-C
        for line in p.stdout:
            if line.startswith("epoch 2/"):
                break
        else:
            pytest.fail(f"no epoch line: {p.stderr.read()}")
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        latency = time.monotonic() - sent
    finally:
        p.kill()
    assert p.returncode == 0, err
    assert "KeyboardInterrupt fitted=False" in out, out + err
    print(f"Ctrl-C to exit: {latency:.2f} s")
    # 100,000 epochs would take hours; the process ended well within the timeout above
    assert latency < 60


def _child(q):
    # runs in a process forked after the parent used drlim (its thread pools and all)
    X, _ = blobs(seed=4)
    est = DrLIM(hidden=(8,), epochs=2, random_state=0).fit(X)
    q.put(est.transform(X[:5]).tolist())


def test_a_process_forked_after_fitting_does_not_deadlock():
    X, _ = blobs(seed=4)
    est = DrLIM(hidden=(8,), epochs=2, random_state=0).fit(X)
    expected = est.transform(X[:5])
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        results = pool.map_async(_transform_in_child, [(est, X[:5])] * 2).get(timeout=120)
    for r in results:
        assert np.array_equal(np.asarray(r, dtype=np.float32), expected)
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    got = q.get(timeout=120)
    p.join(timeout=120)
    assert p.exitcode == 0
    assert np.array_equal(np.asarray(got, dtype=np.float32), expected)


def _transform_in_child(args):
    est, X = args
    return est.transform(X).tolist()
