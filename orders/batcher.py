"""The reservation batcher: concurrent orders share one transaction.

Every order on a hot SKU must update the same stock row, and a row lock is held
until commit, so one order per transaction caps throughput at PostgreSQL's
hot-row rate (one commit per unit). The batcher queues concurrent orders of
this process and places them together with `place_orders`: one allocation pass
that accepts or refuses each order whole, one guarded reservation of the stock
rows (locked in id order), one multi-row write, one commit. There is no added
wait: a batch is whatever queued while the previous batch ran. A worker keeps
its pooled connection while there is work, so back-to-back batches pay no pool
round trips. If a batch fails unexpectedly, its orders are retried one per
transaction so one bad order cannot sink the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg

from config.errors import DatabaseUnavailable
from orders.capture import place_orders
from orders.errors import OrdersError
from orders.models import Order, OrderRequest

log = logging.getLogger(__name__)

MAX_BATCH = 128  # orders per transaction
MAX_WORKERS = 2  # batches in flight
# After the database could not be reached, orders are refused at once (DatabaseUnavailable)
# for a while that doubles with each failure in a row, instead of a worker restarting in a
# loop; the first order after the wait tries again.
FIRST_BACKOFF_S = 0.1
MAX_BACKOFF_S = 5.0


class ReservationBatcher:
    def __init__(
        self, pool: asyncpg.Pool, *, max_batch: int = MAX_BATCH, max_workers: int = MAX_WORKERS
    ) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._max_workers = max_workers
        self._queue: list[tuple[OrderRequest, asyncio.Future[Order]]] = []
        self._workers: set[asyncio.Task[None]] = set()
        self.batches = 0  # for tests and benchmarks
        self.largest_batch = 0
        self.workers_started = 0
        self._failures = 0  # connection failures in a row
        self._retry_at = 0.0  # loop time before which orders are refused

    async def submit(self, request: OrderRequest) -> Order:
        """Place the order; raises the OrdersError that refused it, or DatabaseUnavailable
        while the database is out of reach."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            raise DatabaseUnavailable("the database is out of reach; retry shortly")
        future: asyncio.Future[Order] = loop.create_future()
        self._queue.append((request, future))
        self._kick()
        return await future

    def _kick(self) -> None:
        if self._queue and len(self._workers) < self._max_workers:
            self.workers_started += 1
            task = asyncio.create_task(self._work(), name="orders.reservation-batch")
            self._workers.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        self._kick()

    def _unreachable(self, exc: BaseException) -> None:
        """No connection: refuse what is queued and what comes during the back-off."""
        self._failures += 1
        wait = min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** (self._failures - 1))
        self._retry_at = asyncio.get_running_loop().time() + wait
        log.warning("orders: the database is out of reach (%s); refusing orders for %.1f s",
                    type(exc).__name__, wait)  # fmt: skip
        queued, self._queue = self._queue, []
        for _, future in queued:
            if not future.done():
                future.set_exception(DatabaseUnavailable(f"the database is out of reach: {exc}"))

    async def _work(self) -> None:
        # Workers exist only while there is work, so nothing lingers at shutdown.
        try:
            async with self._pool.acquire() as conn:
                self._failures = 0
                await self._drain(conn)
        except (OSError, TimeoutError, asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError, asyncpg.CannotConnectNowError) as exc:  # fmt: skip
            self._unreachable(exc)

    async def _drain(self, conn: asyncpg.Connection) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            self.batches += 1
            self.largest_batch = max(self.largest_batch, len(batch))
            try:
                await self._run(conn, batch)
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                if conn.is_closed():
                    self._unreachable(exc)
                    return

    async def _run(
        self,
        conn: asyncpg.Connection,
        batch: Sequence[tuple[OrderRequest, asyncio.Future[Order]]],
    ) -> None:
        try:
            async with conn.transaction():
                outcomes = await place_orders(conn, requests=[r for r, _ in batch])
        except (asyncpg.PostgresError, OSError) as exc:
            if len(batch) == 1 or conn.is_closed():
                raise
            log.warning("batch of %d failed (%s); placing its orders one by one", len(batch), exc)
            for item in batch:
                try:
                    await self._run(conn, [item])
                except Exception as one_exc:
                    if not item[1].done():
                        item[1].set_exception(one_exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # the caller went away
                continue
            if isinstance(outcome, OrdersError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
