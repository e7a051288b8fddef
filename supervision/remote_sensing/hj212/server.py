"""An asyncio TCP receiver for HJ 212-2017 devices (no Django: storage is a callable).

Each connection is an `asyncio.Protocol` with its own FrameBuffer: bytes are framed,
checked and parsed in the `data_received` callback (no task, stream or timer per read).
Parsed packets go to one pending list that a flusher hands, in batches, to `store` in
writer threads (`writers` batches in flight at once, so the database works on one while
Python prepares the next; a device waits for its ack before sending on, so its own
packets never race each other). `store` answers for each packet None (accepted) or a
rejection code. Accepted packets whose Flag asks for it are acknowledged with CN=9014
only after their batch is stored, so an acknowledged value is a stored value; a device
that gets no ack resends, and the store keeps one copy. Acks are written to the
transport without waiting for it to drain: a connection whose unsent acks pile up
(a device that does not read) stops being read until its buffer empties.
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
# Unsent acks (bytes) above which a connection stops being read, and below which it resumes.
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024


@dataclass
class ReceiverStats:
    """Counters since start; `rejected` by reason."""

    connections: int = 0
    open_connections: int = 0
    packets: int = 0
    accepted: int = 0
    acked: int = 0
    batches: int = 0
    # Seconds the store took per batch (in its writer thread): sum and worst.
    store_seconds: float = 0.0
    store_seconds_max: float = 0.0
    rejected: Counter = field(default_factory=Counter)
    # Seconds from a packet's last byte read to its ack written, most recent first (bounded).
    ack_seconds: list[float] = field(default_factory=list)

    def line(self) -> str:
        rejected = ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items())) or "none"
        return (
            f"connections {self.open_connections} open / {self.connections} total; packets {self.packets}, "
            f"accepted {self.accepted}, acked {self.acked}, batches {self.batches} "
            f"(store mean {self.store_seconds / max(self.batches, 1) * 1000:.0f} ms, "
            f"max {self.store_seconds_max * 1000:.0f} ms); rejected: {rejected}"
        )


class _Device(asyncio.Protocol):
    """One device connection: frame, check and parse what it sends; queue the packets."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        self.frames = FrameBuffer()
        self.transport: asyncio.Transport | None = None
        self.peer = None
        self.last_read = time.monotonic()
        self.closed = False
        # Reading stops for two independent reasons: the receiver's backlog, our own unsent acks.
        self.paused_by_backlog = False
        self.paused_by_writes = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.peer = transport.get_extra_info("peername")
        transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        stats = self.receiver.stats
        stats.connections += 1
        stats.open_connections += 1
        self.receiver.devices.add(self)

    def connection_lost(self, exc) -> None:
        self.closed = True
        self.receiver.stats.open_connections -= 1
        self.receiver.devices.discard(self)

    def data_received(self, data: bytes) -> None:
        receiver = self.receiver
        stats = receiver.stats
        read_at = self.last_read = time.monotonic()
        for item in self.frames.feed(data):
            stats.packets += 1
            if isinstance(item, HJ212Error):
                receiver.reject(item.code, self.peer, str(item))
                continue
            try:
                packet = segment_parse(item)
            except HJ212Error as exc:
                receiver.reject(exc.code, self.peer, str(exc))
                continue
            receiver.enqueue(self, packet, read_at)

    def pause_writing(self) -> None:
        self.paused_by_writes = True
        self._reading_update()

    def resume_writing(self) -> None:
        self.paused_by_writes = False
        self._reading_update()

    def _reading_update(self) -> None:
        if self.closed or self.transport is None:
            return
        if self.paused_by_backlog or self.paused_by_writes:
            if self.transport.is_reading():
                self.transport.pause_reading()
        elif not self.transport.is_reading():
            self.transport.resume_reading()

    def backlog_pause(self, paused: bool) -> None:
        self.paused_by_backlog = paused
        self._reading_update()

    def answer(self, packet: Packet, read_at: float, verdict: str | None) -> None:
        receiver = self.receiver
        if verdict is not None:
            receiver.reject(verdict, self.peer, f"MN={packet.mn} CN={packet.cn} QN={packet.qn}")
            return
        stats = receiver.stats
        stats.accepted += 1
        if packet.wants_ack and not self.closed:
            self.transport.write(ack_build(packet))  # type: ignore[union-attr]
            stats.acked += 1
            times = stats.ack_seconds
            times.append(time.monotonic() - read_at)
            if len(times) > receiver.keep_ack_times:
                del times[: len(times) // 2]

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.transport.close()


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
        self.devices: set[_Device] = set()
        self._pending: list[tuple[_Device, Packet, float]] = []
        self._paused: list[_Device] = []
        self._wake = asyncio.Event()
        self._writers = asyncio.Semaphore(writers)
        self._executor = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="hj212-store")
        self._in_flight: set[asyncio.Task] = set()
        self._tasks: list[asyncio.Task] = []
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> asyncio.Server:
        loop = asyncio.get_running_loop()
        self._tasks = [asyncio.create_task(self._flush_loop()), asyncio.create_task(self._idle_loop())]
        self._server = await loop.create_server(lambda: _Device(self), host, port, backlog=2048)
        return self._server

    async def stop(self) -> None:
        """Stop accepting and reading, store what is pending (acks included), then stop the writer threads."""
        if self._server is not None:
            self._server.close()
        for device in list(self.devices):
            device.backlog_pause(True)  # a device that keeps sending cannot hold the stop up
        while self._pending or self._in_flight:
            self._wake.set()
            await asyncio.sleep(self.batch_seconds)
        for task in self._tasks:
            task.cancel()
        for device in list(self.devices):
            device.close()
        self._executor.shutdown(wait=True)

    def reject(self, code: str, peer, detail: str) -> None:
        self.stats.rejected[code] += 1
        log.warning("hj212 rejected %s from %s: %s", code, peer, detail)

    def enqueue(self, device: _Device, packet: Packet, read_at: float) -> None:
        self._pending.append((device, packet, read_at))
        if len(self._pending) == 1:
            self._wake.set()
        if len(self._pending) >= self.max_pending and not device.paused_by_backlog:
            # Backpressure: stop reading this device until the writers catch up.
            device.backlog_pause(True)
            self._paused.append(device)

    async def _idle_loop(self) -> None:
        """Close connections silent longer than idle_timeout (one sweep, not one timer per read)."""
        while True:
            await asyncio.sleep(min(30.0, self.idle_timeout / 4))
            silent_since = time.monotonic() - self.idle_timeout
            for device in [d for d in self.devices if d.last_read < silent_since]:
                device.close()

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
            if self._paused and len(self._pending) < self.max_pending // 2:
                for device in self._paused:
                    device.backlog_pause(False)
                self._paused = []
            task = asyncio.create_task(self._store(batch))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _store(self, batch: list[tuple[_Device, Packet, float]]) -> None:
        loop = asyncio.get_running_loop()
        try:
            if not batch:
                return
            started = time.monotonic()
            try:
                verdicts = await loop.run_in_executor(self._executor, self.store, [p for _, p, _ in batch])
            except Exception:
                log.exception("hj212 store failed for a batch of %s packets; none acknowledged", len(batch))
                verdicts = ["store_failed"] * len(batch)
            stats = self.stats
            took = time.monotonic() - started
            stats.batches += 1
            stats.store_seconds += took
            stats.store_seconds_max = max(stats.store_seconds_max, took)
            for (device, packet, read_at), verdict in zip(batch, verdicts, strict=True):
                device.answer(packet, read_at, verdict)
        finally:
            self._writers.release()
