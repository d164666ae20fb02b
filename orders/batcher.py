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

from orders.capture import place_orders
from orders.errors import OrdersError
from orders.models import Order, OrderRequest

log = logging.getLogger(__name__)

MAX_BATCH = 128  # orders per transaction
MAX_WORKERS = 2  # batches in flight


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

    async def submit(self, request: OrderRequest) -> Order:
        """Place the order; raises the OrdersError that refused it."""
        future: asyncio.Future[Order] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        self._kick()
        return await future

    def _kick(self) -> None:
        if self._queue and len(self._workers) < self._max_workers:
            task = asyncio.create_task(self._work(), name="orders.reservation-batch")
            self._workers.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._workers.discard(task)
        self._kick()

    async def _work(self) -> None:
        # Workers exist only while there is work, so nothing lingers at shutdown.
        async with self._pool.acquire() as conn:
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
                        return  # _done starts a fresh worker for what is left

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
