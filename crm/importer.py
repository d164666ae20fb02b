"""Customer and do-not-call imports: parse in batches, write each batch in its own transaction.

Each batch is written (crm/import_write.py: new customers by COPY, known ones by one upsert by
phone) in one transaction together with the run's progress; an interrupted import therefore
leaves whole batches only, and running it again updates what is there instead of adding
anyone twice. Large files are parsed in a child process so parsing the next batch overlaps
with the database writing this one, and a customer import given a second connection writes
two batches at a time (`_Pipeline`).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from config.sql import load_queries
from crm.errors import ImportFailed
from crm.import_write import (
    Before,
    may_skip_fk_check,
    write_customer_batch,
    write_dnc_batch,
)
from crm.parse import (
    DEFAULT_BATCH_ROWS,
    Batch,
    FileInfo,
    ImportKind,
    Issue,
    batches,
    open_import,
)

Q = load_queries("crm", "import.sql")
log = logging.getLogger(__name__)

# Files at least this big are parsed in a child process (spawning one costs ~0.3 s).
PARALLEL_MIN_BYTES = 4 << 20
POLL_S = 0.2
DNC_KINDS = ("national", "financial", "internal")
REPORT_HEADER = ("line", "reason", "value")
Progress = Callable[[int, int], None]


@dataclass(kw_only=True)
class ImportSummary:
    kind: str
    run_id: int
    rows: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    invalid: int = 0
    warnings: int = 0
    error_report: str = ""
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str = ""
    delimiter: str = ""
    batches: int = 0
    consents: int = 0
    seconds: float = 0.0
    # The last batch met customers from before this import: look before writing the next.
    met_existing: bool = True

    def as_json(self) -> dict[str, Any]:
        """The documented summary: rows == imported + updated + duplicates + invalid."""
        return {
            "rows": self.rows, "imported": self.imported, "updated": self.updated,
            "duplicates": self.duplicates, "invalid": self.invalid, "warnings": self.warnings,
            "error_report": self.error_report, "unknown_columns": self.unknown_columns,
        }  # fmt: skip

    def details(self) -> dict[str, Any]:
        """Everything, for import_runs.summary and the audit log."""
        return asdict(self)


# --- where batches come from --------------------------------------------------------------


def _produce(path: str, kind: str, batch_rows: int, out: Any) -> None:
    """Child process: parse the file and send FileInfo, then Batches, then None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    # Parsing allocates several lists per row and makes no reference cycles: reference
    # counting frees each batch once sent, and the cyclic collector, which would otherwise
    # walk the live batch again and again, cost ~40 % of the parser's time.
    gc.disable()

    def send(item: object) -> None:
        try:
            out.send(item)
        except OSError:
            # Parent gone (kill -9): its end of the pipe closed with it.
            os._exit(0)

    try:
        info, table, columns = open_import(Path(path), ImportKind(kind))
    except ImportFailed as exc:
        send(("error", exc.detail or str(exc)))
        return
    try:
        send(info)
        for batch in batches(table, columns, ImportKind(kind), batch_rows):
            send(batch)
        send(None)
    except ImportFailed as exc:
        send(("error", exc.detail or str(exc)))
    except MemoryError:
        send(("error", "the file needs more memory than the parser has"))
    finally:
        table.close()


class _BatchSource:
    """Batches from a child process (big files) or from this process, in a thread."""

    def __init__(self, path: Path, kind: ImportKind, batch_rows: int, parallel: bool) -> None:
        self.path, self.kind, self.batch_rows, self.parallel = path, kind, batch_rows, parallel
        self._stop = threading.Event()
        self._process: Any = None
        self._pipe: Any = None
        self._local: Iterator[Batch] | None = None
        self._close: Callable[[], None] = lambda: None

    async def start(self) -> FileInfo:
        if not self.parallel:
            info, table, columns = await asyncio.to_thread(open_import, self.path, self.kind)
            self._local = batches(table, columns, self.kind, self.batch_rows)
            self._close = table.close
            return info
        ctx = multiprocessing.get_context("spawn")
        # A pipe, not a queue: the child blocks sending batch n+1 until we take it, so it is
        # at most one batch ahead (and one in the making). We hold no write end, so if the
        # child dies, even halfway through sending a batch, reading gets EOF, never hangs.
        self._pipe, writer = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_produce, name="telemart-import-parser", daemon=True,
            args=(str(self.path), self.kind.value, self.batch_rows, writer),
        )  # fmt: skip
        self._process.start()
        writer.close()
        first = await asyncio.to_thread(self._get)
        if isinstance(first, tuple):
            raise ImportFailed(first[1])
        assert isinstance(first, FileInfo)
        return first

    def _get(self) -> object:
        while not self._stop.is_set():
            try:
                if self._pipe.poll(POLL_S):
                    return self._pipe.recv()
            except (EOFError, OSError):
                self._process.join(timeout=POLL_S)
                code = self._process.exitcode
                raise ImportFailed(
                    "the file could not be parsed: the parser stopped"
                    + (" (out of memory?)" if code in (-9, 137) else f" (exit code {code})")
                ) from None
        raise ImportFailed("stopped")

    async def next(self) -> Batch | None:
        if self._local is not None:
            return await asyncio.to_thread(next, self._local, None)
        item = await asyncio.to_thread(self._get)
        if isinstance(item, tuple):
            raise ImportFailed(item[1])
        assert item is None or isinstance(item, Batch)
        return item

    def close(self) -> None:
        self._stop.set()
        self._close()
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join(timeout=5)
            self._pipe.close()


# --- writing batches, up to one per connection at a time -----------------------------------

Write = Callable[[asyncpg.Connection, Batch, Before], Coroutine[Any, Any, list[Issue]]]


class _Pipeline:
    """Writes batches in file order on one or two connections, so that one database backend
    (one core) works on batch n+1 while another finishes batch n. Batch n+1 starts once
    every batch before n has committed, and after n as well when a new phone of n+1 carries
    an external id n used; it writes its new phones at once, and merges the phones that
    exist at once too unless n has one of its phones or external ids: then only after n
    commits (`before`). So two batches in flight never write the same customer or external
    id, and the result is the one of writing them one by one.
    `committed` hears of each batch in file order."""

    def __init__(
        self, conns: list[asyncpg.Connection], write: Write,
        committed: Callable[[Batch, list[Issue]], None],
    ) -> None:  # fmt: skip
        self._free, self._writers = list(conns), len(conns)
        self._write, self._committed = write, committed
        self._flight: list[tuple[Batch, asyncio.Task[list[Issue]]]] = []  # file order

    async def submit(self, batch: Batch) -> None:
        # At most one earlier batch stays in flight, and only one this batch does not clash with.
        keep = 0 if batch.overlaps_previous or self._writers < 2 else 1
        while len(self._flight) > keep:
            await self._finish_oldest()
        earlier = [task for _, task in self._flight]

        async def before() -> None:
            if earlier:
                # asyncio.wait, not await: cancelling this batch must not cancel the other.
                await asyncio.wait(earlier)
                if any(task.cancelled() or task.exception() for task in earlier):
                    raise ImportFailed("an earlier batch of this import failed")

        conn = self._free.pop()
        self._flight.append((batch, asyncio.create_task(self._run(conn, batch, before))))

    async def _run(self, conn: asyncpg.Connection, batch: Batch, before: Before) -> list[Issue]:
        try:
            return await self._write(conn, batch, before)
        finally:
            self._free.append(conn)

    async def _finish_oldest(self) -> None:
        batch, task = self._flight[0]
        issues = await task
        self._flight.pop(0)
        self._committed(batch, issues)

    async def drain(self) -> None:
        while self._flight:
            await self._finish_oldest()

    async def cancel(self) -> None:
        """After an error or Ctrl-C: stop what is in flight (its transaction rolls back)."""
        for _, task in self._flight:
            task.cancel()
        for _, task in self._flight:
            with contextlib.suppress(BaseException):
                await task
        self._flight.clear()


# --- the import ---------------------------------------------------------------------------


def report_path(report_dir: Path, kind: ImportKind, run_id: int) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return report_dir / f"import-{kind.value}-{run_id}-{stamp}.csv"


def _check_file(path: Path, report_dir: Path) -> int:
    """The file's size; the report folder exists afterwards."""
    if not path.is_file():
        raise ImportFailed(f"{path} is not a file")
    report_dir.mkdir(parents=True, exist_ok=True)
    return path.stat().st_size


async def import_file(
    conn: asyncpg.Connection,
    *,
    path: Path,
    kind: ImportKind,
    source: str,
    actor: str,
    report_dir: Path,
    dnc_kind: str = "national",
    filename: str | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    parallel: bool | None = None,
    progress: Progress | None = None,
    second: asyncpg.Connection | None = None,
) -> ImportSummary:
    """Import `path` into customers (or a do-not-call list). `conn` (and `second`) must not
    be inside a transaction: every batch commits on its own. With a `second` connection a
    customer import writes two batches at a time (see `_Pipeline`)."""
    if kind is ImportKind.DNC and dnc_kind not in DNC_KINDS:
        raise ImportFailed(f"do-not-call kind must be one of {', '.join(DNC_KINDS)}")
    started = asyncio.get_running_loop().time()
    size = _check_file(path, report_dir)
    if parallel is None:
        parallel = size >= PARALLEL_MIN_BYTES
    run_id: int = await conn.fetchval(
        Q["insert_import_run"], kind.value, filename or path.name, source, actor
    )
    summary = ImportSummary(kind=kind.value, run_id=run_id)
    report = report_path(report_dir, kind, run_id)
    summary.error_report = str(report)
    stage = "create_customer_stage" if kind is ImportKind.CUSTOMERS else "create_dnc_stage"
    writers = [conn] if second is None or kind is not ImportKind.CUSTOMERS else [conn, second]
    for writer in writers:
        await writer.execute(Q[stage])
    skip_fk_check = await may_skip_fk_check(conn)
    source_of_batches = _BatchSource(path, kind, batch_rows, parallel)
    with report.open("w", encoding="utf-8", newline="") as report_file:
        report_csv = csv.writer(report_file)
        report_csv.writerow(REPORT_HEADER)

        async def write(writer: asyncpg.Connection, batch: Batch, before: Before) -> list[Issue]:
            return await _write_batch(
                writer, batch=batch, kind=kind, source=source, dnc_kind=dnc_kind,
                summary=summary, skip_fk_check=skip_fk_check, before=before,
            )  # fmt: skip

        # Batches and rows committed, counted here in file order (summary.batches may
        # already count a later batch that a second writer finished first).
        batches_done = rows_done = 0

        def committed(batch: Batch, issues: list[Issue]) -> None:
            nonlocal batches_done, rows_done
            report_csv.writerows(issues)
            report_file.flush()
            batches_done += 1
            rows_done += batch.rows
            log.info(
                "import %s run %d: batch %d committed (%d rows so far)",
                kind.value, run_id, batches_done, rows_done,
            )  # fmt: skip
            if progress is not None:
                progress(batch.position, size)

        pipeline = _Pipeline(writers, write, committed)
        try:
            info = await source_of_batches.start()
            summary.unknown_columns = info.unknown_columns
            summary.encoding, summary.delimiter = info.encoding, info.delimiter
            while (batch := await source_of_batches.next()) is not None:
                await pipeline.submit(batch)
            await pipeline.drain()
        except Exception as exc:
            await pipeline.cancel()
            error = exc.detail or str(exc) if isinstance(exc, ImportFailed) else repr(exc)[:200]
            await _failed(conn, summary, actor=actor, filename=filename or path.name, error=error)
            raise
        finally:
            await pipeline.cancel()
            source_of_batches.close()
    summary.seconds = round(asyncio.get_running_loop().time() - started, 3)
    async with conn.transaction():
        await conn.execute(Q["finish_import_run"], run_id, summary.details())
        await conn.execute(
            Q["insert_audit"], actor, f"import.{kind.value}", filename or path.name,
            summary.details(),
        )  # fmt: skip
    return summary


async def _failed(
    conn: asyncpg.Connection, summary: ImportSummary, *, actor: str, filename: str, error: str
) -> None:
    """The run ends as failed, with what was committed before and why it stopped."""
    details = summary.details() | {"failed": True, "error": error}
    async with conn.transaction():
        await conn.execute(Q["fail_import_run"], summary.run_id, details)
        await conn.execute(Q["insert_audit"], actor, f"import.{summary.kind}.failed", filename,
                           details)  # fmt: skip


async def _write_batch(
    conn: asyncpg.Connection,
    *,
    batch: Batch,
    kind: ImportKind,
    source: str,
    dnc_kind: str,
    summary: ImportSummary,
    skip_fk_check: bool,
    before: Before,
) -> list[Issue]:
    """Write one batch in one transaction; update `summary` only once it committed."""
    progress = summary.details() | {
        "rows": summary.rows + batch.rows,
        "batches": summary.batches + 1,
    }
    if kind is ImportKind.CUSTOMERS:
        written = await write_customer_batch(
            conn, batch=batch, source=source, run_id=summary.run_id, progress=progress,
            probe=summary.met_existing, skip_fk_check=skip_fk_check, before=before,
        )  # fmt: skip
        summary.met_existing = written.met_existing
    else:
        await before()
        written = await write_dnc_batch(
            conn, batch=batch, dnc_kind=dnc_kind, source=source, run_id=summary.run_id,
            progress=progress,
        )  # fmt: skip
    summary.batches += 1
    summary.rows += batch.rows
    summary.imported += written.inserted
    summary.updated += batch.staged - batch.repeats - written.inserted
    summary.duplicates += batch.duplicates
    summary.invalid += batch.invalid
    summary.warnings += batch.warned + written.extra_warned
    summary.consents += written.consents
    return written.issues
