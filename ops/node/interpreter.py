"""How a node's process tunes the interpreter for its many threads: GIL hand-over and garbage collection."""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

# A node is many threads that mostly wait on sockets (API requests, relay, consumer lanes, group commit,
# projection readers and writers) beside a few that compute. CPython lets a computing thread keep the GIL
# for 5 ms before handing it over, so a thread whose answer has arrived waits up to that long after every
# round trip. A rebuild's writer waited so after each COPY chunk: its main thread spent 5 to 7 s of a 20 s
# rebuild waiting for the writer, 0.5 to 1.5 s at 0.5 ms (docs/performance.md, "c. rebuilds").
SWITCH_INTERVAL_S = 0.0005

# Each command allocates thousands of short-lived objects (events, their JSON, pydantic values), so the
# default threshold (700) runs a young collection every few commands, and older ones now and then stop
# every thread for milliseconds. Collecting young objects every 20,000 allocations, and leaving what was
# loaded at start-up (modules, classes, the topic caches) out of collections altogether, lowered the
# 8-client p99 from 53-76 ms to 42-55 ms in three alternated rounds of `coordination bench --only a`.
YOUNG_COLLECTION_THRESHOLD = 20_000


def tune_for_a_node() -> None:
    """Sets this process's GIL switch interval and garbage collection for a node's work; call it once,
    after start-up imports."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    gc.collect()  # what start-up left as garbage is freed, not frozen with the rest
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


def process_age_s() -> float | None:
    """Seconds since this process started (from /proc; None where there is none), for start-up logs."""
    try:
        started_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)  # the clock the start time is counted on
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return round(since_boot - started_ticks / os.sysconf("SC_CLK_TCK"), 2)
