"""An asyncio TCP receiver for HJ 212-2017 devices (no Django: storage is a callable).

Each connection is framed by its own FrameBuffer; parsed packets go to one pending list
that a flusher hands, in batches, to `store` in writer threads (`writers` batches in
flight at once, so the database works on one while Python prepares the next; a device
waits for its ack before sending on, so its own packets never race each other). `store` answers for each
packet None (accepted) or a rejection code. Accepted packets whose Flag asks for it are
acknowledged with CN=9014 only after their batch is stored, so an acknowledged value is
a stored value; a device that gets no ack resends, and the store keeps one copy.
Rejected packets (bad CRC, bad length, malformed, unknown device, store failure) are
logged and counted, never stored, never acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .protocol import FrameBuffer, HJ212Error, Packet, ack_build, segment_parse

log = logging.getLogger("supervision.hj212")

StoreFn = Callable[[list[Packet]], list[str | None]]
READ_SIZE = 65536


@dataclass
class ReceiverStats:
    """Counters since start; `rejected` by reason."""

    connections: int = 0
    open_connections: int = 0
    packets: int = 0
    accepted: int = 0
    acked: int = 0
    batches: int = 0
    rejected: Counter = field(default_factory=Counter)
    # Seconds from a packet's last byte read to its ack written, most recent first (bounded).
    ack_seconds: list[float] = field(default_factory=list)

    def line(self) -> str:
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items())) or "none"
        return (
            f"connections {self.open_connections} open / {self.connections} total; packets {self.packets}, "
            f"accepted {self.accepted}, acked {self.acked}, batches {self.batches}; rejected: {rejected}"
        )


class Receiver:
    """Accept device connections, frame and check packets, store in batches, acknowledge."""

    def __init__(
        self,
        *,
        store: StoreFn,
        batch_size: int = 500,
        batch_seconds: float = 0.05,
        max_pending: int = 20000,
        idle_timeout: float = 900.0,
        keep_ack_times: int = 100000,
        writers: int = 2,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.batch_seconds = batch_seconds
        self.max_pending = max_pending
        self.idle_timeout = idle_timeout
        self.keep_ack_times = keep_ack_times
        self.stats = ReceiverStats()
        self._pending: list[tuple[Packet, asyncio.Future, float]] = []
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._writers = asyncio.Semaphore(writers)
        self._executor = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="hj212-store")
        self._in_flight: set[asyncio.Task] = set()
        self._flusher: asyncio.Task | None = None
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> asyncio.Server:
        self._flusher = asyncio.create_task(self._flush_loop())
        self._server = await asyncio.start_server(self._handle, host, port, limit=READ_SIZE, backlog=2048)
        return self._server

    async def stop(self) -> None:
        """Stop accepting, store what is pending, then stop the writer thread."""
        if self._server is not None:
            self._server.close()
        while self._pending or self._in_flight:
            self._wake.set()
            await asyncio.sleep(self.batch_seconds)
        if self._flusher is not None:
            self._flusher.cancel()
        self._executor.shutdown(wait=True)

    def _reject(self, code: str, peer, detail: str) -> None:
        self.stats.rejected[code] += 1
        log.warning("hj212 rejected %s from %s: %s", code, peer, detail)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        self.stats.connections += 1
        self.stats.open_connections += 1
        frames = FrameBuffer()
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    data = await asyncio.wait_for(reader.read(READ_SIZE), self.idle_timeout)
                except (TimeoutError, ConnectionError):
                    break
                if not data:
                    break
                read_at = time.perf_counter()
                for item in frames.feed(data):
                    self.stats.packets += 1
                    if isinstance(item, HJ212Error):
                        self._reject(item.code, peer, str(item))
                        continue
                    try:
                        packet = segment_parse(item)
                    except HJ212Error as exc:
                        self._reject(exc.code, peer, str(exc))
                        continue
                    future = loop.create_future()
                    future.add_done_callback(lambda f, p=packet, t=read_at: self._answer(writer, p, t, f, peer))
                    self._pending.append((packet, future, read_at))
                    self._wake.set()
                if len(self._pending) >= self.max_pending:
                    # Backpressure: stop reading this device until the writer catches up.
                    self._drained.clear()
                    await self._drained.wait()
        finally:
            self.stats.open_connections -= 1
            writer.close()

    def _answer(self, writer: asyncio.StreamWriter, packet: Packet, read_at: float, future, peer) -> None:
        verdict = future.result()
        if verdict is not None:
            self._reject(verdict, peer, f"MN={packet.mn} CN={packet.cn} QN={packet.qn}")
            return
        self.stats.accepted += 1
        if packet.wants_ack and not writer.is_closing():
            writer.write(ack_build(packet))
            self.stats.acked += 1
            times = self.stats.ack_seconds
            times.append(time.perf_counter() - read_at)
            if len(times) > self.keep_ack_times:
                del times[: len(times) // 2]

    async def _flush_loop(self) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
            await self._writers.acquire()
            if len(self._pending) < self.batch_size:
                await asyncio.sleep(self.batch_seconds)
            batch = self._pending[: self.batch_size]
            del self._pending[: self.batch_size]
            if len(self._pending) < self.max_pending // 2:
                self._drained.set()
            task = asyncio.create_task(self._store(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _store(self, batch: list[tuple[Packet, asyncio.Future, float]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            if not batch:
                return
            try:
                verdicts = await loop.run_in_executor(self._executor, self.store, [p for p, _, _ in batch])
            except Exception:
                log.exception("hj212 store failed for a batch of %s packets; none acknowledged", len(batch))
                verdicts = ["store_failed"] * len(batch)
            self.stats.batches += 1
            for (_, future, _), verdict in zip(batch, verdicts, strict=True):
                if not future.done():
                    future.set_result(verdict)
        finally:
            self._writers.release()
