"""Time the whole conformance suite against the reference client on the fake.

Run ``python bench/suite.py [--runs N]``: prints the wall time of each run of
``pytest --pyargs conformance --client examples/reference/profile.toml``, the median,
and the number of scenarios. Target: under 10 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(profile: Path) -> tuple[float, dict[str, object]]:
    """Run the suite once; return its wall time and its results document."""
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "--pyargs",
                "conformance",
                "--client",
                str(profile),
                "--report",
                folder,
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            capture_output=True,
            text=True,
            cwd=folder,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(f"the suite failed:\n{completed.stdout[-2000:]}")
        document = json.loads((Path(folder) / "results.json").read_text())
    return elapsed, document


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--client", type=Path, default=ROOT / "examples/reference/profile.toml"
    )
    args = parser.parse_args()

    times = []
    document: dict[str, object] = {}
    for index in range(args.runs):
        elapsed, document = run_once(args.client.resolve())
        times.append(elapsed)
        print(f"run {index + 1}: {elapsed:.2f} s")
    print(f"median wall time: {statistics.median(times):.2f} s (target < 10 s)")
    print(f"scenarios: {document['scenarios']}")
    print(f"requirements: {document['counts']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
