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
import shutil
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
from .data import bulk_load, create_empty, members_for

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
    export_rounds: int


FULL = Config("full", command_count=200, command_rounds=5, write_count=3000, writers=(1, 100, 1000),
              small=1_000, large=1_000_000, read_repeat=1000, startup_rounds=5, rss_commands=1000, export_rounds=2)
QUICK = Config("quick", command_count=40, command_rounds=1, write_count=400, writers=(1, 100, 1000),
               small=1_000, large=20_000, read_repeat=40, startup_rounds=1, rss_commands=200, export_rounds=1)


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


def ratio_row(measure: str, ours: str, baseline: str, ratio: float, *, at_least: float | None = None,
              at_most: float | None = None) -> Row:
    target = f"≥ {at_least:g}" if at_least is not None else f"≤ {at_most:g}" if at_most is not None else ""
    return Row(measure, ours, baseline, ratio, target, verdict(ratio, at_least=at_least, at_most=at_most))


def run(config: Config, work: Path, postgres: Postgres) -> tuple[dict[str, Any], list[Row]]:
    root = Path(__file__).parent.parent
    results: dict[str, Any] = {}
    rows: list[Row] = []

    print(f"[1/6] commands through SimCord ({config.command_count} each, {config.command_rounds} rounds)…",
          flush=True)
    commands = asyncio.run(harness.compare_commands(work / "commands", count=config.command_count,
                                                    rounds=config.command_rounds, postgres=postgres.migrated))
    results["commands_per_second"] = commands
    for name, pair in commands.items():
        baseline = ("bare bot, same durable write" if pair["baseline"] == "write" else "bare replying bot")
        rows.append(ratio_row(f"`{name}` commands/s", f"{pair['ours']:,.0f}", f"{baseline} {pair['bare']:,.0f}",
                              pair["ours"] / pair["bare"], at_least=pair["target"]))

    print(f"[2/6] Store.add_take vs raw writes ({config.write_count} takes, {config.command_rounds} rounds)…",
          flush=True)
    writes: dict[str, list[dict[str, float]]] = {}
    for round_ in range(config.command_rounds):  # interleaved: each round measures every side once
        for writers in config.writers:
            raw_db, store_db = work / f"raw-{writers}-{round_}.db", work / f"store-{writers}-{round_}.db"
            create_empty(raw_db)
            create_empty(store_db)
            writes.setdefault(f"sqlite-{writers}", []).append(
                {"raw": storage.raw_per_row(raw_db, config.write_count),
                 "ours": asyncio.run(storage.store_writers(store_db, config.write_count, writers))})
        # One writer: both sides in alternating slices of one run (storage.pg_one_writer).
        raw, ours = asyncio.run(storage.pg_one_writer(postgres.migrated(), postgres.migrated(), config.write_count))
        writes.setdefault("postgresql-1", []).append(
            {"autocommit": raw, "ours": ours,
             "executemany": asyncio.run(storage.raw_pg_executemany(postgres.migrated(), config.write_count))})
        writes.setdefault("postgresql-100", []).append(
            {"autocommit": asyncio.run(storage.raw_pg_autocommit(postgres.migrated(), config.write_count)),
             "executemany": asyncio.run(storage.raw_pg_executemany(postgres.migrated(), config.write_count)),
             "ours": asyncio.run(storage.store_writers(postgres.migrated(), config.write_count, 100))})
    results["add_take_per_second"] = writes
    for writers in config.writers:
        measured = writes[f"sqlite-{writers}"]
        ratios = [m["ours"] / m["raw"] for m in measured]
        med = {k: statistics.median(m[k] for m in measured) for k in ("ours", "raw")}
        if writers == 100:  # the target holds in every round: the worst round is the figure
            rows.append(ratio_row(f"SQLite `Store.add_take`, {writers} writers, takes/s (worst of "
                                  f"{len(ratios)} rounds)", f"{med['ours']:,.0f}",
                                  f"raw sqlite3, commit per row {med['raw']:,.0f}", min(ratios), at_least=3))
        else:
            rows.append(ratio_row(f"SQLite `Store.add_take`, {writers} writer(s), takes/s", f"{med['ours']:,.0f}",
                                  f"raw sqlite3, commit per row {med['raw']:,.0f}", statistics.median(ratios)))
    for writers in (1, 100):
        measured = writes[f"postgresql-{writers}"]
        med = {k: statistics.median(m[k] for m in measured) for k in ("ours", "autocommit", "executemany")}
        rows.append(ratio_row(f"PostgreSQL `Store.add_take`, {writers} writer(s), takes/s", f"{med['ours']:,.0f}",
                              f"raw asyncpg, autocommit per row {med['autocommit']:,.0f}",
                              statistics.median(m["ours"] / m["autocommit"] for m in measured),
                              at_least=0.8 if writers == 1 else 3))
        if writers == 100:
            rows.append(ratio_row(f"PostgreSQL `Store.add_take`, {writers} writers, takes/s", f"{med['ours']:,.0f}",
                                  f"raw asyncpg, executemany in one transaction {med['executemany']:,.0f}",
                                  statistics.median(m["ours"] / m["executemany"] for m in measured),
                                  at_least=0.6))

    print(f"[3/6] databases of {config.small:,} and {config.large:,} takes, both backends…", flush=True)
    small_db, large_db = work / "small.db", work / "large.db"
    start = time.perf_counter()
    bulk_load(small_db, config.small, members=members_for(config.small))
    bulk_load(large_db, config.large, members=members_for(config.large))
    small_pg, large_pg = postgres.fresh(), postgres.fresh()
    asyncio.run(backends.bulk_load_postgres(small_pg, config.small, members_for(config.small)))
    asyncio.run(backends.bulk_load_postgres(large_pg, config.large, members_for(config.large)))
    results["generate_seconds"] = time.perf_counter() - start
    results["reads"] = {}
    for backend, small_at, large_at in (("SQLite", small_db, large_db), ("PostgreSQL", small_pg, large_pg)):
        reads = asyncio.run(storage.compare_reads((small_at, config.small), (large_at, config.large),
                                                  config.read_repeat))
        results["reads"][backend] = reads
        small, large = reads["small"], reads["large"]
        for name in small:
            rows.append(ratio_row(f"{backend} `{name}` p99 at {config.large:,} takes (p50)",
                                  f"{large[name]['p99_ms']:.2f} ms ({large[name]['p50_ms']:.2f})",
                                  f"at {config.small:,}: {small[name]['p99_ms']:.2f} ms ({small[name]['p50_ms']:.2f})",
                                  large[name]["p99_ms"] / max(small[name]["p99_ms"], 1e-6), at_most=2))

    print(f"[4/6] exports of {config.large:,} takes (own processes, for peak memory), interleaved…", flush=True)
    exports: dict[str, list[dict[str, Any]]] = {}
    for _ in range(config.export_rounds):
        for backend, where in (("sqlite", str(large_db)), ("postgresql", large_pg)):
            for how in ("ours", "naive"):
                exports.setdefault(f"{backend}-{how}", []).append(child("export", backend, where, how, cwd=root))
    results["export"] = exports
    for backend, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        ours_s = statistics.median(e["seconds"] for e in exports[f"{backend}-ours"])
        naive_s = statistics.median(e["seconds"] for e in exports[f"{backend}-naive"])
        peak = max(e["peak_mb"] for e in exports[f"{backend}-ours"])
        rows.append(ratio_row(f"{label} export of {config.large:,} takes, seconds", f"{ours_s:.1f} s",
                              f"naive row-at-a-time exporter {naive_s:.1f} s", ours_s / naive_s, at_most=0.3))
        rows.append(Row(f"{label} export of {config.large:,} takes, peak RSS", f"{peak:.0f} MB", "", None,
                        "< 100 MB", peak < 100))

    print("[5/6] start-up…", flush=True)
    importing: list[float] = []
    checking: list[float] = []
    for _ in range(config.startup_rounds):
        importing.append(wall(sys.executable, "-c", "import discord", cwd=root))
        checking.append(wall(sys.executable, "-m", "bot", "check", "--files-only", cwd=root))
    ours_ready = statistics.median(child("ready", "ours", str(work / f"ready-{n}"), cwd=root)["seconds"]
                                   for n in range(config.startup_rounds))
    bare_ready = statistics.median(child("ready", "bare", str(work / f"ready-bare-{n}"), cwd=root)["seconds"]
                                   for n in range(config.startup_rounds))
    results["startup"] = {"import_discord_s": importing, "check_s": checking, "ready_s": ours_ready,
                          "bare_ready_s": bare_ready}
    rows.append(ratio_row("`python -m bot check --files-only`, seconds", f"{statistics.median(checking):.2f}",
                          f"`import discord` {statistics.median(importing):.2f}",
                          statistics.median(checking) / statistics.median(importing), at_most=1.4))
    rows.append(ratio_row("start to READY (SimCord), seconds", f"{ours_ready:.2f}",
                          f"bare bot (discord.py only) {bare_ready:.2f}", ours_ready / bare_ready))

    print(f"[6/6] memory after {config.rss_commands} commands…", flush=True)
    replies_file = work / "replies.json"
    replies = asyncio.run(harness.capture_replies(work / "capture-rss"))
    replies_file.write_text(json.dumps({name: {"content": r["content"], "embeds": [e.to_dict() for e in r["embeds"]],
                                               "reply": r["reply"]}
                                        for name, r in replies.items()}), encoding="utf-8")
    ours_rss = child("rss", "ours", str(work / "rss"), str(config.rss_commands), str(replies_file), cwd=root)
    bare_rss = child("rss", "bare", str(work / "rss-bare"), str(config.rss_commands), str(replies_file), cwd=root)
    results["rss_after_commands"] = {"ours": ours_rss, "bare": bare_rss, "commands": config.rss_commands}
    rows.append(Row(f"RSS after {config.rss_commands} commands", f"{ours_rss['rss_mb']:.0f} MB",
                    f"bare bot (discord.py only) {bare_rss['rss_mb']:.0f} MB", ours_rss["rss_mb"] / bare_rss["rss_mb"],
                    "< 100 MB", ours_rss["rss_mb"] < 100))
    return results, rows


class Postgres:
    """A PostgreSQL server for the run (durable: fsync and synchronous commits on, like SQLite's
    ``synchronous=FULL``), and fresh databases on it."""

    def __init__(self, url: str | None) -> None:
        self._server: Any = None
        if url:
            self.admin = url
        else:
            from tests.postgres_server import PostgresServer

            self._server = PostgresServer.start(Path(tempfile.mkdtemp(prefix="cf-bench-postgres-")), durable=True)
            self.admin = self._server.url()
        self._made = 0

    def fresh(self) -> str:
        self._made += 1
        return asyncio.run(backends.create_database(self.admin, f"cf_bench_{os.getpid()}_{self._made}"))

    def migrated(self) -> str:
        """A fresh database with the bot's schema."""
        url = self.fresh()

        async def migrate() -> None:
            from bot.storage import open_store

            await (await open_store(url)).close()

        asyncio.run(migrate())
        return url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            shutil.rmtree(self._server.folder, ignore_errors=True)


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
                                               "CREATE DATABASE (default: a throwaway durable server from the "
                                               "pgserver wheel, as the tests start)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    started = time.perf_counter()
    postgres = Postgres(args.postgres_url)
    try:
        with tempfile.TemporaryDirectory(prefix="cf-bench-") as folder:
            results, rows = run(config, Path(folder), postgres)
    finally:
        postgres.stop()
    described = machine()
    report = {"machine": described, "config": config.__dict__, "seconds": time.perf_counter() - started,
              "results": results, "table": [row.__dict__ for row in rows]}
    out = args.out or RESULTS / f"{config.name}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print()
    print(table(rows))
    print(f"\n{config.name} run in {report['seconds']:.0f} s on {described['cpus']} CPU(s); JSON: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
