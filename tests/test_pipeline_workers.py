"""DSP worker processes ignore Ctrl+C: a console stop must reach only the main process."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor

from actors.pipeline import ignore_interrupts


def _slow_square(x: int, started: str) -> int:
    open(started, "w").close()  # the worker runs the job (its initializer ran before)
    time.sleep(1.0)
    return x * x


def test_worker_survives_sigint_sent_to_it(tmp_path):
    started = tmp_path / "started"
    with ProcessPoolExecutor(
        1, mp_context=multiprocessing.get_context("spawn"), initializer=ignore_interrupts
    ) as pool:
        future = pool.submit(_slow_square, 7, str(started))
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:  # a loaded machine spawns slowly
            time.sleep(0.02)
        for child in multiprocessing.active_children():
            os.kill(child.pid, signal.SIGINT)
        assert future.result(timeout=30) == 49
