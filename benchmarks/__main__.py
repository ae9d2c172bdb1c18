"""``python -m benchmarks [--quick] [--out FILE]``: run the suite, print the table, write JSON.

Each row is a ratio against a baseline measured in the same run: commands against a bare
discord.py bot in the same SimCord harness, ``Store.add_take`` against raw ``sqlite3`` at the
same ``synchronous`` level, reads and exports at a large size against a small one, start-up
against ``import discord``, memory against the bare bot. ``--quick`` (a CI smoke run, under a
minute) uses small sizes and few repetitions: its ratios are rough, and its large size is 20k
takes, not a million.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import backends, harness, storage
from .data import bulk_load

RESULTS = Path(__file__).parent / "results"


@dataclass(frozen=True)
class Config:
    name: str
    command_count: int
    command_rounds: int
    write_count: int
    writers: tuple[int, ...]
    small: int
    large: int
    read_repeat: int
    startup_rounds: int
    rss_commands: int


FULL = Config("full", command_count=200, command_rounds=5, write_count=3000, writers=(1, 100, 1000),
              small=1_000, large=1_000_000, read_repeat=1000, startup_rounds=3, rss_commands=1000)
QUICK = Config("quick", command_count=40, command_rounds=1, write_count=400, writers=(1, 100, 1000),
               small=1_000, large=20_000, read_repeat=40, startup_rounds=1, rss_commands=200)


@dataclass
class Row:
    measure: str
    ours: str
    baseline: str
    ratio: float | None
    target: str = ""
    met: bool | None = None


def machine() -> dict[str, Any]:
    cpu = memory = ""
    with contextlib.suppress(OSError, IndexError):
        cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")), "")
        memory = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpu": cpu,
            "cpus": os.cpu_count(), "memory": memory, "sqlite": sqlite3.sqlite_version,
            "load_average": os.getloadavg(), "when_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def child(*args: str, cwd: Path) -> dict[str, Any]:
    """Run ``python -m benchmarks.child …`` and return its JSON line."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.child", *args], capture_output=True, text=True,
                          cwd=cwd, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.child {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def wall(*command: str, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, cwd=cwd)
    return time.perf_counter() - start


def verdict(value: float | None, *, at_least: float | None = None, at_most: float | None = None) -> bool | None:
    if value is None:
        return None
    if at_least is not None:
        return value >= at_least
    if at_most is not None:
        return value <= at_most
    return None


def run(config: Config, work: Path) -> tuple[dict[str, Any], list[Row]]:
    root = Path(__file__).parent.parent
    results: dict[str, Any] = {}
    rows: list[Row] = []

    print(f"[1/6] commands through SimCord ({config.command_count} each, {config.command_rounds} rounds)…",
          flush=True)
    commands = asyncio.run(harness.compare_commands(work / "commands", count=config.command_count,
                                                    rounds=config.command_rounds))
    results["commands_per_second"] = commands
    for name, pair in commands.items():
        ratio = pair["ours"] / pair["bare"]
        target = "≥ 0.6" if name == "take" else ""
        rows.append(Row(f"`{name}` commands/s", f"{pair['ours']:,.0f}", f"bare bot {pair['bare']:,.0f}", ratio,
                        target, verdict(ratio, at_least=0.6) if name == "take" else None))

    print(f"[2/6] Store.add_take vs raw sqlite3 ({config.write_count} takes)…", flush=True)
    writes = storage.compare_writes(work / "writes", count=config.write_count, writer_counts=config.writers)
    results["add_take_per_second"] = writes
    for writers, pair in writes.items():
        ratio = pair["ours"] / pair["raw"]
        target = "≥ 3" if writers == "100" else ""
        rows.append(Row(f"`Store.add_take`, {writers} writer(s), takes/s", f"{pair['ours']:,.0f}",
                        f"raw sqlite3, commit per row {pair['raw']:,.0f}", ratio, target,
                        verdict(ratio, at_least=3) if writers == "100" else None))

    print(f"[3/6] databases of {config.small:,} and {config.large:,} takes…", flush=True)
    small_db, large_db = work / "small.db", work / "large.db"
    start = time.perf_counter()
    bulk_load(small_db, config.small)
    bulk_load(large_db, config.large)
    results["generate_seconds"] = time.perf_counter() - start
    reads = asyncio.run(storage.compare_reads((small_db, config.small), (large_db, config.large),
                                              config.read_repeat))
    results["reads"] = reads
    small, large = reads["small"], reads["large"]
    for name in small:
        ratio = large[name]["p99_ms"] / max(small[name]["p99_ms"], 1e-6)
        bounded = name != "jump to page 500"
        rows.append(Row(f"`{name}` p99 at {config.large:,} takes (p50)",
                        f"{large[name]['p99_ms']:.2f} ms ({large[name]['p50_ms']:.2f})",
                        f"at {config.small:,}: {small[name]['p99_ms']:.2f} ms ({small[name]['p50_ms']:.2f})",
                        ratio, "≤ 2" if bounded else "", verdict(ratio, at_most=2) if bounded else None))

    print("[4/6] exports (own processes, for peak memory)…", flush=True)
    export_small = child("export", str(small_db), cwd=root)
    export_large = child("export", str(large_db), cwd=root)
    results["export"] = {"small": export_small, "large": export_large}
    rows.append(Row(f"export of {config.large:,} takes, seconds", f"{export_large['seconds']:.1f} s",
                    f"{config.small:,}: {export_small['seconds']:.2f} s",
                    export_large["seconds"] / max(export_small["seconds"], 1e-6), "< 30 s",
                    export_large["seconds"] < 30 if config.large >= 1_000_000 else None))
    rows.append(Row(f"export of {config.large:,} takes, peak RSS", f"{export_large['peak_mb']:.0f} MB",
                    f"{config.small:,}: {export_small['peak_mb']:.0f} MB",
                    export_large["peak_mb"] / max(export_small["peak_mb"], 1e-6), "< 150 MB",
                    export_large["peak_mb"] < 150))

    print("[5/6] start-up…", flush=True)
    importing = statistics.median(wall(sys.executable, "-c", "import discord", cwd=root)
                                  for _ in range(config.startup_rounds))
    checking = statistics.median(wall(sys.executable, "-m", "bot", "check", cwd=root)
                                 for _ in range(config.startup_rounds))
    ours_ready = statistics.median(child("ready", "ours", str(work / f"ready-{n}"), cwd=root)["seconds"]
                                   for n in range(config.startup_rounds))
    bare_ready = statistics.median(child("ready", "bare", str(work / f"ready-bare-{n}"), cwd=root)["seconds"]
                                   for n in range(config.startup_rounds))
    results["startup"] = {"import_discord_s": importing, "check_s": checking, "ready_s": ours_ready,
                          "bare_ready_s": bare_ready}
    rows.append(Row("`python -m bot check`, seconds", f"{checking:.2f}", f"`import discord` {importing:.2f}",
                    checking / importing))
    rows.append(Row("start to READY (SimCord), seconds", f"{ours_ready:.2f}", f"bare bot {bare_ready:.2f}",
                    ours_ready / bare_ready))

    print(f"[6/6] memory after {config.rss_commands} commands…", flush=True)
    ours_rss = child("rss", "ours", str(work / "rss"), str(config.rss_commands), cwd=root)
    bare_rss = child("rss", "bare", str(work / "rss-bare"), str(config.rss_commands), cwd=root)
    results["rss_after_commands"] = {"ours": ours_rss, "bare": bare_rss, "commands": config.rss_commands}
    rows.append(Row(f"RSS after {config.rss_commands} commands", f"{ours_rss['rss_mb']:.0f} MB",
                    f"bare bot {bare_rss['rss_mb']:.0f} MB", ours_rss["rss_mb"] / bare_rss["rss_mb"], "< 100 MB",
                    ours_rss["rss_mb"] < 100))
    return results, rows


def table(rows: list[Row]) -> str:
    lines = ["| measure | ours | baseline (same run) | ratio | target | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}"
        met = {True: "yes", False: "**no**", None: ""}[row.met]
        lines.append(f"| {row.measure} | {row.ours} | {row.baseline} | {ratio} | {row.target} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repetitions (CI smoke, < 1 min)")
    parser.add_argument("--out", type=Path, help="where to write the JSON (default: benchmarks/results/…)")
    parser.add_argument("--postgres-url", help="PostgreSQL for the backend comparison: a server whose user may "
                                               "CREATE DATABASE (default: a throwaway server, Debian's package)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cf-bench-") as folder:
        results, rows = run(config, Path(folder))
    print("[+] SQLite beside PostgreSQL (takes/s with 100 writers; reads at "
          f"{'20,000' if args.quick else '1,000,000'} takes)…", flush=True)
    results["backends"], backend_table = backends.compare(quick=args.quick, postgres_url=args.postgres_url)
    described = machine()
    report = {"machine": described, "config": config.__dict__, "seconds": time.perf_counter() - started,
              "results": results, "table": [row.__dict__ for row in rows]}
    out = args.out or RESULTS / f"{config.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print()
    print(table(rows))
    print()
    print(backend_table)
    print(f"\n{config.name} run in {report['seconds']:.0f} s on {described['cpus']} CPU(s); JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
