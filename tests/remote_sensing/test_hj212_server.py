"""The HJ 212 receiver alone (no Django): its store is a plain callable, here one that records batches."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from supervision.remote_sensing.hj212 import FrameBuffer, packet_build, segment_build, segment_parse
from supervision.remote_sensing.hj212.server import Receiver


def run_in_own_thread(coro_fn):
    """asyncio.run in a thread of its own, whatever loop an earlier test left in this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn())).result()


def hourly(mn: str, qn: str, flag: int = 5) -> bytes:
    cp = "DataTime=20260301090000;a21026-Avg=35.0,a21026-Flag=N"
    return packet_build(segment_build(qn=qn, st="31", cn="2061", pw="123456", mn=mn, flag=flag, cp=cp))


class SlowStore:
    """Accepts every packet but MN=REFUSED, taking a little time per batch like a database."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, packets):
        time.sleep(0.005)
        self.batches.append([p.qn for p in packets])
        return ["unknown_device" if p.mn == "REFUSED" else None for p in packets]


async def acks_read(reader: asyncio.StreamReader, count: int) -> list[str]:
    frames = FrameBuffer()
    qns: list[str] = []
    while len(qns) < count:
        data = await asyncio.wait_for(reader.read(65536), 10)
        if not data:
            break
        qns += [segment_parse(s).qn for s in frames.feed(data)]
    return qns


def test_pipelined_devices_under_backpressure_get_every_ack_once_after_storage():
    store = SlowStore()

    async def run():
        # max_pending far below what the devices send at once: reading pauses and resumes.
        receiver = Receiver(store=store, batch_size=7, batch_seconds=0.001, max_pending=10, writers=2)
        server = await receiver.start("127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]

        async def device(i: int) -> list[str]:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            # All 15 packets in one write, without waiting for acks; one asks for no ack.
            writer.write(b"".join(hourly(f"D{i}", f"{i}-{n}", flag=4 if n == 3 else 5) for n in range(15)))
            await writer.drain()
            qns = await acks_read(reader, 14)
            writer.close()
            return qns

        results = await asyncio.gather(*(device(i) for i in range(20)))
        await receiver.stop()
        return receiver, results

    receiver, results = run_in_own_thread(run)
    for i, qns in enumerate(results):
        # Once each; batches stored at once may ack a pipelining device out of order (the QN says which).
        assert sorted(qns) == sorted(f"{i}-{n}" for n in range(15) if n != 3)
    stored = [qn for batch in store.batches for qn in batch]
    assert sorted(stored) == sorted(f"{i}-{n}" for i in range(20) for n in range(15))
    assert max(len(batch) for batch in store.batches) <= 7
    assert (receiver.stats.packets, receiver.stats.accepted, receiver.stats.acked) == (300, 300, 280)
    assert receiver.stats.open_connections == 0 and not receiver.stats.rejected


def test_rejections_are_counted_and_never_acknowledged():
    store = SlowStore()

    async def run():
        receiver = Receiver(store=store, batch_seconds=0.001)
        server = await receiver.start("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        bad_crc = hourly("D1", "BAD")[:-6] + b"0000\r\n"
        malformed = packet_build("QN=M;ST=31;CN=2061;MN=D1;Flag=5")  # no CP section
        writer.write(bad_crc + malformed + hourly("REFUSED", "R") + hourly("D1", "OK"))
        await writer.drain()
        qns = await acks_read(reader, 1)
        writer.close()
        await receiver.stop()
        return receiver, qns

    receiver, qns = run_in_own_thread(run)
    assert qns == ["OK"]
    assert dict(receiver.stats.rejected) == {"bad_crc": 1, "malformed": 1, "unknown_device": 1}
    assert [qn for batch in store.batches for qn in batch] == ["R", "OK"]
    assert len(receiver.stats.ack_seconds) == 1  # the one ack sent (its latency: bench_hj212.py)
