"""How a node's process shares the interpreter among its threads."""

from __future__ import annotations

import sys

# A node is many threads that mostly wait on sockets (API requests, relay, consumer lanes, group commit,
# projection readers and writers) beside a few that compute. CPython lets a computing thread keep the GIL
# for 5 ms before handing it over, so a thread whose answer has arrived waits up to that long after every
# round trip. A rebuild's writer waited so after each COPY chunk: its main thread spent 5 to 7 s of a 20 s
# rebuild waiting for the writer, 0.5 to 1.5 s at 0.5 ms (docs/performance.md, "c. rebuilds").
SWITCH_INTERVAL_S = 0.0005


def hand_over_the_gil_often() -> None:
    """Sets this process's GIL switch interval for a node's mix of waiting and computing threads."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
