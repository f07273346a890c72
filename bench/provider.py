"""Measure the fake identity service against a bare werkzeug app, in one run.

Five parts, each printed as a table beside its target (``bench/README.md`` says what
each figure means): the full flow over HTTP, the token endpoint's throughput, cold
start and peak memory of ``ch-oauth-mock serve``, memory over a long in-process run,
and the control plane's costs. ``python bench/provider.py --help`` lists the options.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench and mock_provider from here
    sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from werkzeug.test import Client as TestClient  # noqa: E402

from bench.flows import (  # noqa: E402
    AUTHORISE,
    CREDENTIALS,
    STEPS,
    Walk,
    arranged_flow,
    code_form,
    code_from,
    issue_codes,
    new_session,
    post_ok,
    refresh_form,
    run_flows,
    walk_bare,
    walk_flow,
)
from bench.harness import (  # noqa: E402
    BARE,
    MIB,
    SERVE,
    TimedBare,
    TimedProvider,
    bare_app,
    bare_server,
    child_envs,
    mib,
    ms,
    print_table,
    proc_status,
    served_process,
    summarise,
    time_calls,
    us,
    verdict,
)
from mock_provider import Provider, ProviderConfig, ProviderServer  # noqa: E402

PARTS = ("flow", "token", "cold", "memory", "control")


# 1. The full flow.


def bench_flow(flows: int, warmup: int) -> dict[str, Any]:
    """Time the six-request flow on our provider and on the bare app, interleaved."""
    provider, bare = TimedProvider(), TimedBare()
    ours: list[list[float]] = []
    theirs: list[list[float]] = []
    with ProviderServer(provider=provider) as server, bare_server(bare) as bare_url:
        run_flows(walk_flow, server.url, 0, warmup)
        run_flows(walk_bare, bare_url, 0, warmup)
        provider.samples.clear()
        bare.samples.clear()
        with new_session() as mine, new_session() as other:
            for _ in range(flows):  # alternate, so that drift in the machine hits both
                ours.append(walk_flow(mine, server.url))
                theirs.append(walk_bare(other, bare_url))
    result: dict[str, Any] = {
        "flows": flows,
        "requests": flows * len(STEPS),
        "steps": {},
    }
    for index, step in enumerate(STEPS):
        result["steps"][step] = {
            "ours": summarise([f[index] for f in ours]),
            "bare": summarise([f[index] for f in theirs]),
            "ours_app": summarise(provider.samples[index :: len(STEPS)]),
            "bare_app": summarise(bare.samples[index :: len(STEPS)]),
        }
    result["all"] = {
        "ours": summarise([t for f in ours for t in f]),
        "bare": summarise([t for f in theirs for t in f]),
        "ours_app": summarise(provider.samples),
        "bare_app": summarise(bare.samples),
    }
    result["flow"] = {
        "ours": summarise([sum(f) for f in ours]),
        "bare": summarise([sum(f) for f in theirs]),
    }
    result["ratio"] = result["all"]["ours"]["median"] / result["all"]["bare"]["median"]
    return result


def print_flow(result: dict[str, Any]) -> None:
    rows = []
    for name, row in [*result["steps"].items(), ("every request", result["all"])]:
        ours, bare = row["ours"], row["bare"]
        ratio = ours["median"] / bare["median"]
        target = verdict("<= 1.5", ratio <= 1.5) if name == "every request" else ""
        rows.append(
            [
                name,
                ms(ours["median"]),
                ms(ours["p90"]),
                ms(bare["median"]),
                ms(bare["p90"]),
                f"{ratio:.2f}",
                us(row["ours_app"]["median"]),
                us(row["bare_app"]["median"]),
                target,
            ]
        )
    ours, bare = result["flow"]["ours"], result["flow"]["bare"]
    rows.append(
        [
            "whole flow (6)",
            ms(ours["median"]),
            ms(ours["p90"]),
            ms(bare["median"]),
            ms(bare["p90"]),
            f"{ours['median'] / bare['median']:.2f}",
            "",
            "",
            "",
        ]
    )
    print_table(
        f"1. Full flow over HTTP: {result['flows']} flows, {result['requests']} "
        "requests each side, one requests.Session per side",
        [
            "request",
            "ours med",
            "ours p90",
            "bare med",
            "bare p90",
            "ratio",
            "ours in app",
            "bare in app",
            "target",
        ],
        rows,
    )


# 2 and 5. Token endpoint throughput.


@dataclasses.dataclass
class Workload:
    """A request to repeat, and what to do, untimed, before each round of it."""

    call: Callable[[], None]
    prepare: Callable[[int], None] = lambda n: None


def measure_rates(
    workloads: dict[str, Workload], per_round: int, rounds: int
) -> dict[str, dict[str, Any]]:
    """Run the workloads in rounds, alternating their order; rps and latency of each."""
    rates: dict[str, list[float]] = {name: [] for name in workloads}
    samples: dict[str, list[float]] = {name: [] for name in workloads}
    for index in range(rounds):
        order = list(workloads) if index % 2 == 0 else list(reversed(workloads))
        for name in order:
            workloads[name].prepare(per_round)
            started = time.perf_counter()
            samples[name] += time_calls(workloads[name].call, per_round)
            rates[name].append(per_round / (time.perf_counter() - started))
    return {
        name: {
            "rps": statistics.median(rates[name]),
            "rounds": rates[name],
            "latency": summarise(samples[name]),
        }
        for name in workloads
    }


def token_workloads(
    session: requests.Session, server: ProviderServer, bare_url: str
) -> dict[str, Workload]:
    """Refresh grants and code exchanges on ours; the refresh POST on the bare app."""
    token_url = server.url + "/oauth2/token"
    refresh = refresh_form(session, server)
    codes: list[str] = []

    def exchange() -> None:
        post_ok(session, token_url, code_form(codes.pop()))

    return {
        "ours, refresh grant": Workload(lambda: post_ok(session, token_url, refresh)),
        "ours, code exchange": Workload(
            exchange, lambda n: codes.extend(issue_codes(session, server.url, n))
        ),
        "bare": Workload(lambda: post_ok(session, bare_url + "/oauth2/token", refresh)),
    }


def bench_token(per_round: int, rounds: int) -> dict[str, Any]:
    """Token endpoint requests per second over HTTP, and its in-process cost."""
    with (
        ProviderServer() as server,
        bare_server() as bare_url,
        new_session() as session,
    ):
        workloads = token_workloads(session, server, bare_url)
        for workload in workloads.values():
            workload.prepare(50)
            time_calls(workload.call, 50)
        http = measure_rates(workloads, per_round, rounds)
    bare_rps = http["bare"]["rps"]
    return {
        "http": http,
        "in_process": token_in_process(per_round * 4),
        "ratio_refresh": http["ours, refresh grant"]["rps"] / bare_rps,
        "ratio_code": http["ours, code exchange"]["rps"] / bare_rps,
    }


def token_in_process(n: int) -> dict[str, Any]:
    """Server-side cost of one refresh grant, through werkzeug's test client."""
    provider = Provider()
    assert provider.control is not None
    provider.control.arrange(times=None)
    client = TestClient(provider)
    back = client.get("/oauth2/authorise", query_string=AUTHORISE)
    code = code_from(back.headers["Location"])
    issued = client.post("/oauth2/token", data=code_form(code))
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": json.loads(issued.data)["refresh_token"],
        **CREDENTIALS,
    }
    bare = TestClient(bare_app)
    result: dict[str, Any] = {}
    for _ in range(2):  # the first pass warms up; the second is kept
        result["bare"] = summarise(time_calls(lambda: bare.post("/t", data=refresh), n))
        for enabled in (False, True):
            provider.journal.enabled = enabled
            result[f"ours, journal {'on' if enabled else 'off'}"] = summarise(
                time_calls(lambda: client.post("/oauth2/token", data=refresh), n)
            )
    return result


def print_token(result: dict[str, Any]) -> None:
    http, bare_rps = result["http"], result["http"]["bare"]["rps"]
    rows = []
    for name, figures in http.items():
        ratio = figures["rps"] / bare_rps
        target = verdict(">= 0.7", ratio >= 0.7) if "refresh" in name else ""
        rows.append(
            [
                name,
                f"{figures['rps']:.0f}",
                ms(figures["latency"]["median"]),
                ms(figures["latency"]["p90"]),
                f"{ratio:.2f}",
                target,
            ]
        )
    print_table(
        "2. Token endpoint, one client over HTTP (req/s: median of "
        f"{len(http['bare']['rounds'])} rounds)",
        ["workload", "req/s", "median", "p90", "vs bare", "target"],
        rows,
    )
    rows = [
        [name, us(f["median"]), us(f["p90"])]
        for name, f in result["in_process"].items()
    ]
    print_table(
        "   The refresh grant in process (werkzeug test client, no socket)",
        ["app", "median", "p90"],
        rows,
    )


# 3. Cold start and peak memory of the serve command.


def cold_starts(command: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median and p90 seconds from spawn to the first 200 on GET /."""
    starts = []
    for _ in range(runs):
        with served_process(command, env) as (_, _, seconds):
            starts.append(seconds)
    return summarise(starts)


def bench_cold_start(runs: int, flows: int, warmup: int, fill: int) -> dict[str, Any]:
    """Seconds from spawn to the first 200; peak RSS after walking the flows."""
    result: dict[str, Any] = {
        "dont_write_bytecode": bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    }
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as cache_dir:
        envs = child_envs(cache_dir)
        for mode, env in envs.items():
            floor = functools.partial(
                subprocess.run, [sys.executable, "-c", "pass"], env=env, check=True
            )
            floor()
            result[f"python -c pass, {mode}"] = summarise(time_calls(floor, runs))
        for name, command, walk in (
            ("ours", SERVE, walk_flow),
            ("bare", BARE, walk_bare),
        ):
            with served_process(command, envs["bytecode cached"]):
                pass  # fills the cache
            result[name] = {
                mode: cold_starts(command, env, runs) for mode, env in envs.items()
            }
            result[name].update(
                _peak_memory(command, envs["as run here"], walk, flows, warmup, fill)
            )
    return result


def _peak_memory(
    command: list[str],
    env: dict[str, str],
    walk: Walk,
    flows: int,
    warmup: int,
    fill: int,
) -> dict[str, Any]:
    with served_process(command, env) as (pid, url, _):
        idle = proc_status(pid)
        timed = run_flows(walk, url, flows, warmup)
        after = proc_status(pid)
        run_flows(walk, url, fill)
        filled = proc_status(pid)
    return {
        "rss_idle": idle["VmRSS"],
        "hwm_after_flows": after["VmHWM"],
        "hwm_after_fill": filled["VmHWM"],
        "request": summarise([t for f in timed for t in f]),
    }


def import_offenders(
    threshold: float = 0.008, depth: int = 4
) -> list[tuple[str, float]]:
    """Return the imports of the serve command taking over ``threshold`` seconds.

    Each module is indented under the one that imported it, parents first.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import mock_provider.cli"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    found = []
    for line in reversed(done.stderr.splitlines()):  # importtime lists parents last
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        level = (len(parts[2]) - len(parts[2].lstrip()) - 1) // 2
        seconds = int(parts[1]) / 1e6
        if level <= depth and seconds >= threshold:
            found.append(("  " * level + parts[2].strip(), seconds))
    return found


def print_cold_start(result: dict[str, Any], flows: int, fill: int) -> None:
    ours, bare = result["ours"], result["bare"]
    rows = []
    for mode in ("as run here", "bytecode cached"):
        cold = ours[mode]["median"]
        rows.append(
            [
                f"spawn to first 200 on GET /, {mode}",
                ms(cold),
                ms(bare[mode]["median"]),
                verdict("< 200 ms", cold < 0.2),
            ]
        )
        rows.append(["  p90", ms(ours[mode]["p90"]), ms(bare[mode]["p90"]), ""])
        rows.append(
            [
                f"  floor: python -c pass, {mode}",
                ms(result[f"python -c pass, {mode}"]["median"]),
                "",
                "",
            ]
        )
    hwm = ours["hwm_after_flows"]
    rows += [
        ["RSS idle", mib(ours["rss_idle"]), mib(bare["rss_idle"]), ""],
        [
            f"peak RSS (VmHWM) after {flows} flows",
            mib(hwm),
            mib(bare["hwm_after_flows"]),
            verdict("< 40 MiB", hwm < 40 * MIB),
        ],
        [
            "request median, server in its own process",
            ms(ours["request"]["median"]),
            ms(bare["request"]["median"]),
            "",
        ],
    ]
    if fill:
        hwm = ours["hwm_after_fill"]
        rows.append(
            [
                f"peak RSS after {fill} more flows (journal full)",
                mib(hwm),
                mib(bare["hwm_after_fill"]),
                verdict("< 40 MiB", hwm < 40 * MIB),
            ]
        )
    print_table(
        f"3. `python -m mock_provider serve --port 0`, "
        f"{ours['as run here']['n']} cold starts per row",
        ["figure", "ours", "bare", "target"],
        rows,
    )
    if "imports" in result:
        print_table(
            "   Slowest imports of mock_provider.cli (python -X importtime, "
            "as run here; 8 ms or more)",
            ["module (indented under its importer)", "cumulative"],
            [[m, ms(s)] for m, s in result["imports"]],
        )


# 4. Memory over a long run, in a process of its own.


def bench_memory(flows: int) -> dict[str, Any]:
    """Walk ``flows`` arranged flows, the clock +200 s every 1,000; watch memory."""
    config = dataclasses.replace(
        ProviderConfig(), access_token_lifetime=300, refresh_token_lifetime=600
    )
    provider = Provider(config)
    assert provider.control is not None
    provider.control.arrange(times=None)
    marks = sorted({max(1, flows * p // 100) for p in (10, 25, 50, 75, 100)})
    checkpoints = []
    started = time.perf_counter()
    for done in range(1, flows + 1):
        arranged_flow(provider)
        if done % 1000 == 0:
            provider.clock.advance(200)
        if done in marks:
            gc.collect()
            checkpoints.append(
                {
                    "flows": done,
                    "rss": proc_status()["VmRSS"],
                    "store": provider.store.sizes(),
                    "journal": len(provider.journal),
                    "seconds": time.perf_counter() - started,
                }
            )
    return {"flows": flows, "checkpoints": checkpoints}


def bench_memory_in_child(flows: int) -> dict[str, Any]:
    """Run :func:`bench_memory` in a fresh interpreter, so RSS is its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--memory-child", str(flows)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def print_memory(result: dict[str, Any]) -> None:
    points, rows = result["checkpoints"], []
    for point in points:
        sizes = " ".join(
            f"{k}={v}" for k, v in point["store"].items() if k != "transactions"
        )
        rows.append(
            [
                f"{point['flows']:,}",
                mib(point["rss"]),
                sizes,
                point["journal"],
                f"{point['seconds']:.0f} s",
            ]
        )
    half = next(p for p in points if p["flows"] >= result["flows"] // 2)
    growth = points[-1]["rss"] - half["rss"]
    flat = growth <= max(2 * MIB, 0.02 * half["rss"])
    print_table(
        f"4. Memory over {result['flows']:,} arranged flows in process (authorise, "
        "token, verify; clock +200 s per 1,000 flows)",
        ["flows", "VmRSS", "store.sizes()", "journal", "elapsed"],
        rows,
    )
    print(
        f"   RSS change over the second half: {growth / MIB:+.1f} MiB; "
        + verdict("flat, within max(2 MiB, 2%):", flat)
    )


# 5. The control plane.


def bench_control(resets: int, per_round: int, rounds: int) -> dict[str, Any]:
    """Cost of reset() idle and after a flow; the journal's cost over HTTP."""
    provider = Provider()
    control = provider.control
    assert control is not None
    idle = time_calls(control.reset, resets)
    used = []
    for _ in range(resets):
        control.arrange()
        arranged_flow(provider)
        used += time_calls(control.reset, 1)

    with ProviderServer() as server, new_session() as session:
        journal = server.provider.journal
        form, url = refresh_form(session, server), server.url + "/oauth2/token"

        def switch(on: bool) -> Callable[[int], None]:
            return lambda n: setattr(journal, "enabled", on)

        http = measure_rates(
            {
                "journal on": Workload(
                    lambda: post_ok(session, url, form), switch(True)
                ),
                "journal off": Workload(
                    lambda: post_ok(session, url, form), switch(False)
                ),
            },
            per_round,
            rounds,
        )
    return {
        "reset_idle": summarise(idle),
        "reset_after_flow": summarise(used),
        "http": http,
        "journal_ratio": http["journal on"]["rps"] / http["journal off"]["rps"],
    }


def print_control(result: dict[str, Any], in_process: dict[str, Any] | None) -> None:
    rows = []
    for key, label in (
        ("reset_idle", "reset(), nothing to forget"),
        ("reset_after_flow", "reset() after one arranged flow"),
    ):
        figures = result[key]
        rows.append(
            [
                f"{label} ({figures['n']} calls)",
                us(figures["median"]),
                us(figures["p90"]),
                verdict("<< 1 ms", figures["median"] < 0.001),
            ]
        )
    for name, figures in result["http"].items():
        rows.append(
            [
                f"refresh grant over HTTP, {name}",
                f"{figures['rps']:.0f} req/s",
                ms(figures["latency"]["p90"]),
                "",
            ]
        )
    rows.append(
        ["throughput, journal on / off", f"{result['journal_ratio']:.2f}", "", ""]
    )
    if in_process:
        on, off = in_process["ours, journal on"], in_process["ours, journal off"]
        rows.append(
            [
                "in process, journal on / off (time)",
                f"{on['median'] / off['median']:.2f}",
                f"+{us(on['median'] - off['median'])}",
                "",
            ]
        )
    print_table("5. Control plane", ["figure", "median", "p90", "target"], rows)


# The command line.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--flows", type=int, default=200, help="timed flows in parts 1 and 3 (200)")
    add("--warmup", type=int, default=20, help="untimed flows before them (20)")
    add(
        "--token-requests",
        type=int,
        default=500,
        help="token requests per round in parts 2 and 5 (500)",
    )
    add("--rounds", type=int, default=6, help="alternating rounds in parts 2 and 5 (6)")
    add("--cold-starts", type=int, default=10, help="cold starts of each server (10)")
    add(
        "--fill-journal",
        type=int,
        default=1700,
        help="flows walked after part 3's, to fill the journal; 0 to skip (1700)",
    )
    add("--flows-memory", type=int, default=100_000, help="flows in part 4 (100000)")
    add("--resets", type=int, default=1000, help="reset() calls timed (1000)")
    add(
        "--importtime",
        action="store_true",
        help="list the slowest imports even when cold start meets its target",
    )
    add(
        "--only", choices=PARTS, action="append", help="run only this part (repeatable)"
    )
    add("--json", metavar="FILE", help="also write every figure to FILE as JSON")
    add("--memory-child", type=int, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.memory_child:
        print(json.dumps(bench_memory(args.memory_child)))
        return 0
    only = set(args.only or PARTS)
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
    }
    print(
        f"python {results['python']}, {results['cpus']} CPUs, load average "
        f"{results['load_before'][0]:.2f} before the run. bare = a werkzeug app "
        "answering every request with a constant token JSON, on the same threaded "
        "werkzeug server with request logging off."
    )
    if "flow" in only:
        results["flow"] = bench_flow(args.flows, args.warmup)
        print_flow(results["flow"])
    if "token" in only:
        results["token"] = bench_token(args.token_requests, args.rounds)
        print_token(results["token"])
    if "cold" in only:
        results["cold"] = cold = bench_cold_start(
            args.cold_starts, args.flows, args.warmup, args.fill_journal
        )
        if args.importtime or cold["ours"]["bytecode cached"]["median"] >= 0.2:
            cold["imports"] = import_offenders()
        print_cold_start(cold, args.flows, args.fill_journal)
    if "memory" in only:
        results["memory"] = bench_memory_in_child(args.flows_memory)
        print_memory(results["memory"])
    if "control" in only:
        results["control"] = bench_control(
            args.resets, args.token_requests, args.rounds
        )
        print_control(results["control"], results.get("token", {}).get("in_process"))
    results["load_after"] = os.getloadavg()
    print(f"\nload average {results['load_after'][0]:.2f} after the run")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
