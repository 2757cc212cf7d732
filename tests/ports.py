"""Ports for the nodes and servers the tests start, one block per pytest-xdist worker.

A port from the kernel (`bind(("127.0.0.1", 0))`) is an ephemeral port: between closing the probe socket and the
node binding it, another worker's HTTP client may take it as its source port, or another worker may be handed the
same one. Ports here come from below the ephemeral range (32768+ on Linux; ape-foundry's own random ports are above
49152), in a block of their own per worker (gw0, gw1, …), and are checked free before they are returned.
"""

from __future__ import annotations

import os
import random
import socket

BASE, BLOCK = 20_000, 1_500


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0


def free_port() -> int:
    """A loopback port nobody listens on, from this worker's block."""
    start = BASE + (_worker_index() % 8) * BLOCK
    for port in random.sample(range(start, start + BLOCK), 200):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + BLOCK}")
