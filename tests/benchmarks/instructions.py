"""Instructions per request of the HTTP read benchmark's pages, for this tree and others.

    .venv/bin/python -m tests.benchmarks.instructions --database-url URL
        [--page search-S] [--checkout DIR ...] [--requests 100,600]

On a shared machine req/s and CPU time move by more than a change of a few percent; the number
of instructions a request executes does not. Each checkout runs profile_reads (the whole ASGI
app in process, one request at a time) under valgrind's callgrind twice, with two numbers of
requests: the difference of the two totals, over the difference of the requests, is the
instructions of one request, start-up and warm-up left out. Needs valgrind (`apt-get install
valgrind`) and a database seeded by profile_reads (`--keep` prints its URL). A checkout is a
directory with its own `.venv` (bench_http's baselines are); the default is this tree.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions(checkout: Path, database_url: str, page: str, requests: int) -> int:
    document, _, size = page.rpartition("-")
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                str(checkout / ".venv" / "bin" / "python"),
                "-m",
                "tests.benchmarks.profile_reads",
                "--database-url",
                database_url,
                "--documents",
                document,
                "--sizes",
                size,
                "--requests",
                str(requests),
            ],
            cwd=checkout,
            check=True,
            capture_output=True,
        )
        totals = re.search(r"^totals: (\d+)", out.read_text(), re.MULTILINE)
        assert totals is not None, "callgrind wrote no totals"
        return int(totals.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--page", action="append", help="DOCUMENT-SIZE, e.g. search-S")
    parser.add_argument("--checkout", action="append", type=Path, help="default: this tree")
    parser.add_argument(
        "--requests", default="100,600", help="the two numbers of requests, fewer first"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        parser.error("valgrind is not installed: apt-get install valgrind")
    fewer, more = (int(number) for number in args.requests.split(","))
    checkouts = args.checkout or [ROOT]
    for page in args.page or ["search-S"]:
        for checkout in checkouts:
            # Both runs at once: one core each on this 2-core machine, and counts are exact.
            with ThreadPoolExecutor(2) as pool:
                low, high = (
                    pool.submit(instructions, checkout, args.database_url, page, count)
                    for count in (fewer, more)
                )
                counted = high.result() - low.result()
            per_request = counted / (more - fewer)
            print(f"{page:14} {per_request:12,.0f} instructions/request  {checkout}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
