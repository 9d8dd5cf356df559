"""The scrape endpoint of `marketplace serve`: an HTTP server in the process that runs uvicorn
(the supervisor, with `--workers N`), answering with the sum of every worker's metrics files.

The workers only write their files; none of them serves a scrape, so every scrape sees all of
them, the ones of workers that have died included: counters and histograms keep what those
counted, while `live*` gauges (open sockets, subscriptions, pool connections) drop a process
once it has exited, cleanly or not.

prometheus_client is imported inside the functions only: the directory must be in the
environment first (see use_multiprocess_directory).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("marketplace.metrics")

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")


def use_multiprocess_directory() -> tuple[str, bool]:
    """The directory for the workers' files, set in the environment before prometheus_client is
    imported here or in any worker (it picks where values live when first imported).

    PROMETHEUS_MULTIPROC_DIR if the operator set it, emptied of a previous run's files (they
    would be summed into this one's); otherwise a new temporary directory (the bool: ours to
    remove).
    """
    directory = os.environ.get(MULTIPROC_VARIABLE)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for path in glob.glob(os.path.join(directory, "*.db")):
            os.remove(path)
        return directory, False
    directory = tempfile.mkdtemp(prefix="marketplace-metrics-")
    os.environ[MULTIPROC_VARIABLE] = directory
    return directory, True


def multiprocess_mode() -> bool:
    """Whether this process's metrics are written to PROMETHEUS_MULTIPROC_DIR's files."""
    from prometheus_client import values

    return bool(getattr(values.ValueClass, "_multiprocess", False))


def forget_live_gauges(pid: int, directory: str | None = None) -> None:
    """Drops the `live*` gauges' file of process `pid`: its open sockets are not summed."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's: alive
        pass
    return True


class _AllWorkers:
    """MultiProcessCollector, after dropping the live gauges of processes that died without
    their lifespan's shutdown (killed, crashed) and that uvicorn replaced."""

    def __init__(self, directory: str, collector: Any) -> None:
        self.directory = directory
        self.collector = collector
        self.lock = threading.Lock()

    def collect(self) -> Iterable[Any]:
        with self.lock:
            for name in os.listdir(self.directory):
                match = _LIVE_GAUGE_FILE.fullmatch(name)
                if match and not _alive(int(match[1])):
                    with contextlib.suppress(FileNotFoundError):
                        forget_live_gauges(int(match[1]), self.directory)
            return list(self.collector.collect())


@dataclass
class MetricsEndpoint:
    server: Any
    thread: threading.Thread
    directory: str
    owned: bool

    @classmethod
    def start(cls, host: str, port: int) -> MetricsEndpoint:
        """Serves GET /metrics on host:port in a thread; OSError if the port is taken."""
        directory, owned = use_multiprocess_directory()
        try:
            # Only now: prometheus_client must see PROMETHEUS_MULTIPROC_DIR when first imported.
            from prometheus_client import CollectorRegistry, start_http_server
            from prometheus_client.multiprocess import MultiProcessCollector

            if not multiprocess_mode():
                raise RuntimeError(
                    "prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set"
                )
            registry = CollectorRegistry()
            collector = MultiProcessCollector(None, directory)  # type: ignore[no-untyped-call]
            registry.register(_AllWorkers(directory, collector))
            server, thread = start_http_server(port, host, registry=registry)
            logger.info("metrics at http://%s:%d/metrics", host, server.server_port)
        except BaseException:
            if owned:
                shutil.rmtree(directory, ignore_errors=True)
            raise
        return cls(server=server, thread=thread, directory=directory, owned=owned)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        if self.owned:
            shutil.rmtree(self.directory, ignore_errors=True)
