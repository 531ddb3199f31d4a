"""The run's report: a table per action and per session, then one JSON line."""

from __future__ import annotations

import json
import math
import os

ACTIONS = ("source_example", "source_grid", "type_grid", "operator", "kernel")


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least ``q`` of all at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def fmt_s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def pooled(records: dict[int, list[dict]]) -> dict:
    """The sessions' records (by session number) and every kind of time and problem, over all of them."""
    sessions = sorted((r for group in records.values() for r in group), key=lambda r: r["sid"])
    reruns = [(a, t) for r in sessions for a, t in r["reruns"]]
    return {
        "sessions": sessions,
        "loads": [r["initial_load"] for r in sessions if r["initial_load"] is not None],
        "page_loads": [t for r in sessions for t in r["page_load"]],
        "reruns": reruns,
        "times": [t for _, t in reruns],
        "script_times": [t for r in sessions for t in r["script_reruns"]],
        "server": [t for r in sessions for t in r["server"]],
        "errors": [e for r in sessions for e in r["errors"]],
        "violations": [(r["sid"], v) for r in sessions for v in r["violations"]],
    }


def summary(args, runs: dict, peak_rss: int) -> dict:
    """The JSON summary; a session that never reported counts as an error."""
    loads, times, script_times, server = runs["loads"], runs["times"], runs["script_times"], runs["server"]
    values = {
        "sessions": args.sessions, "seconds": args.seconds, "browser_cpus": args.browser_cpus,
        "initial_load_p50_s": percentile(loads, .5), "initial_load_p95_s": percentile(loads, .95),
        "rerun_p50_s": percentile(times, .5), "rerun_p95_s": percentile(times, .95), "reruns": len(times),
        "rerun_script_p50_s": percentile(script_times, .5), "rerun_script_p95_s": percentile(script_times, .95),
        "server_answer_p50_s": percentile(server, .5), "server_answer_p95_s": percentile(server, .95),
        "errors": len(runs["errors"]) + args.sessions - len(runs["sessions"]),
        "isolation_violations": len(runs["violations"]), "server_peak_rss_mb": round(peak_rss / 2**20, 1),
    }
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}


def report(args, records: dict[int, list[dict]], idle_rss: int, peak_rss: int, marks: dict) -> int:
    """Print the report; 0 if the run had no error and no isolation violation, else 1. ``marks`` holds
    the time and the server's CPU time at the start ("steady") and the end ("end") of the steady phase."""
    runs = pooled(records)
    result = summary(args, runs, peak_rss)
    missing = args.sessions - len(runs["sessions"])
    reruns, times = runs["reruns"], runs["times"]
    print()
    print(f"PoolScope load: {args.sessions} sessions over {args.workers} browser processes (ramp {args.ramp:g} s,"
          f" {args.load_concurrency} initial load(s) at once per browser), then {args.seconds:g} s of reruns"
          + (f"; the browsers capped at {args.browser_cpus:g} cores in all" if args.browser_cpus else ""))
    print(f"{'action':<24}{'count':>7}{'p50 s':>9}{'p95 s':>9}{'max s':>9}")
    rows = [("initial_load", runs["loads"]), ("  goto (load)", runs["page_loads"])]
    rows += [(a, [t for b, t in reruns if b == a]) for a in ACTIONS]
    rows += [("all reruns", times), ("  as the script saw it", runs["script_times"]),
             ("  server answer", runs["server"])]
    for name, values in rows:
        print(f"{name:<24}{len(values):>7}{fmt_s(percentile(values, .5)):>9}{fmt_s(percentile(values, .95)):>9}"
              f"{fmt_s(max(values) if values else None):>9}")
    print(f"{'session':<9}{'load s':>8}{'reruns':>8}{'p50 s':>8}{'p95 s':>8}{'errors':>8}{'isol.':>7}")
    for r in runs["sessions"]:
        own = [t for _, t in r["reruns"]]
        print(f"{r['sid']:<9}{fmt_s(r['initial_load']):>8}{len(own):>8}{fmt_s(percentile(own, .5)):>8}"
              f"{fmt_s(percentile(own, .95)):>8}{len(r['errors']):>8}{len(r['violations']):>7}")
    kinds: dict[str, int] = {}
    for kind, _ in runs["errors"]:
        kinds[kind] = kinds.get(kind, 0) + 1
    print(f"errors: {result['errors']} {kinds or ''}{f' ({missing} sessions never reported)' if missing else ''}")
    for kind, message in runs["errors"][:10]:
        print(f"  {kind}: {message}")
    print(f"isolation violations: {result['isolation_violations']}")
    for sid, message in runs["violations"][:10]:
        print(f"  session {sid}: {message}")
    print(f"server RSS: before any session {idle_rss / 2**20:.0f} MB, peak {peak_rss / 2**20:.0f} MB")
    if "steady" in marks and "end" in marks and times:
        wall = marks["end"]["time"] - marks["steady"]["time"]
        cpu = marks["end"]["server_cpu"] - marks["steady"]["server_cpu"]
        print(f"steady phase: {len(times) / wall:.2f} reruns/s; the server used {cpu / wall:.0%} of one core"
              f" ({cpu / len(times) * 1000:.0f} ms per rerun), the browsers most of the rest of {os.cpu_count()}")
    print(json.dumps(result), flush=True)
    return 0 if result["errors"] == 0 and not runs["violations"] else 1
