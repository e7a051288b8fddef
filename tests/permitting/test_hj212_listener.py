"""Done-when: the real `hj212_listen` on loopback, fed HJ 212 packets over TCP.

Valid, resent, bad CRC, unknown device, exceedance hours (several packets in one write,
one packet split across writes): stored values, acknowledgements and the one lead.
"""

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from supervision.cases.models import Lead
from supervision.permitting.services.limits import permit_limits_import
from supervision.remote_sensing.hj212 import FrameBuffer, packet_build, segment_build, segment_parse
from supervision.remote_sensing.models import CemsValue

from .conftest import limits_csv, permit_scene


def _call_closing(*args: str) -> None:
    """call_command in a worker thread, closing that thread's database connection after."""
    try:
        call_command(*args)
    finally:
        connection.close()


ROOT = Path(__file__).resolve().parents[2]


def hourly(mn: str, qn: str, hour: int, so2: float, flag: int = 5, cn: str = "2061") -> bytes:
    cp = f"DataTime=20260301{hour:02d}0000;a21026-Avg={so2},a21026-Min={so2 - 1},a21026-Max={so2 + 1},a21026-Flag=N"
    return packet_build(segment_build(qn=qn, st="31", cn=cn, pw="123456", mn=mn, flag=flag, cp=cp))


@pytest.fixture
def cems_clean(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM remote_sensing_cemsvalue")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM remote_sensing_cemsvalue")


@pytest.fixture
def listener(cems_clean):
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CEMS_BATCH_SECONDS": "0.01",
    }
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "hj212_listen", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        pytest.fail(f"listener did not start: {line!r} {proc.stderr.read()[-2000:]}")
    port = int(line.rsplit(":", 1)[1])
    yield proc, port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def read_acks(sock: socket.socket, count: int, wait: float) -> list:
    """Acks parsed from the socket: until `count` arrived, then `wait` more seconds for extras."""
    frames = FrameBuffer()
    acks = []
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    deadline = time.monotonic() + 30
    extra_until = None
    while True:
        now = time.monotonic()
        if len(acks) >= count and extra_until is None:
            extra_until = now + wait
        end = extra_until if extra_until is not None else deadline
        if now >= end:
            break
        if sel.select(timeout=end - now):
            data = sock.recv(65536)
            if not data:
                break
            acks += [segment_parse(s) for s in frames.feed(data)]
    return acks


def test_listener_stores_acknowledges_rejects_and_raises_one_lead(tmp_path, listener):
    scene = permit_scene()
    permit_limits_import(
        path=limits_csv(
            tmp_path,
            [
                f"{scene.chem.credit_code},DA001,CEMS0001,a21026,50,mg/m3,,,",
                f"{scene.chem.credit_code},DA001,CEMS0001,a21002,100,mg/m3,,,",
            ],
        )
    )
    proc, port = listener
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    compliant = hourly("CEMS0001", "Q08", 8, 35.0)
    sock.sendall(compliant)
    assert [a.qn for a in read_acks(sock, 1, 0.2)] == ["Q08"]

    bad_crc = hourly("CEMS0001", "QBAD", 12, 99.0)[:-6] + b"0000\r\n"
    unknown = hourly("NOSUCHDEVICE", "QUNK", 9, 99.0)
    minute = hourly("CEMS0001", "QMIN", 9, 55.0, flag=4, cn="2051")
    exceed = [hourly("CEMS0001", f"Q{h:02d}", h, v) for h, v in ((9, 60.0), (10, 75.5), (11, 70.0))]
    # Resent, bad CRC, unknown device, a minute value and two exceedance hours in one write;
    # the third exceedance hour split across two writes.
    sock.sendall(compliant + bad_crc + unknown + minute + exceed[0] + exceed[1] + exceed[2][:20])
    time.sleep(0.2)
    sock.sendall(exceed[2][20:])
    acks = read_acks(sock, 4, 1.0)
    assert [a.qn for a in acks] == ["Q08", "Q09", "Q10", "Q11"]
    assert {(a.cn, a.st, a.mn, a.flag) for a in acks} == {("9014", "91", "CEMS0001", 4)}
    sock.close()

    hourly_values = list(
        CemsValue.objects.filter(cn=2061).order_by("data_time").values_list("device_mn", "outlet_code", "avg")
    )
    assert hourly_values == [
        ("CEMS0001", "DA001", 35.0),
        ("CEMS0001", "DA001", 60.0),
        ("CEMS0001", "DA001", 75.5),
        ("CEMS0001", "DA001", 70.0),
    ]
    assert list(CemsValue.objects.filter(cn=2051).values_list("avg", flat=True)) == [55.0]
    assert not CemsValue.objects.filter(device_mn="NOSUCHDEVICE").exists()
    assert not CemsValue.objects.filter(avg=99.0).exists()

    lead = Lead.objects.get()
    assert (lead.source, lead.target, lead.division) == ("cems", scene.chem, scene.division)
    assert lead.detections == 3
    assert lead.evidence["limit"] == 50.0
    assert [h["value"] for h in lead.evidence["hours"]] == [60.0, 75.5, 70.0]

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert "rejected: bad_crc 1, unknown_device 1" in out
    assert "acked 5" in out

    # Evaluation from the stored values finds the same episode: nothing new, twice.
    for _ in range(2):
        call_command("evaluate_cems", "--since", "2026-02-28")
    lead.refresh_from_db()
    assert Lead.objects.filter(source="cems", evidence__rule="cems_exceedance").count() == 1
    assert lead.detections == 3
    # The device has been silent since 2026-03-01 11:00: one data-gap lead, however often run.
    gap = Lead.objects.get(evidence__rule="cems_gap")
    assert (gap.source, gap.target, gap.evidence["device_mn"]) == ("cems", scene.chem, "CEMS0001")


def test_simulator_feeds_the_listener_and_its_exceedance_raises_a_lead(tmp_path, listener, capsys):
    scene = permit_scene()
    permit_limits_import(path=limits_csv(tmp_path, [f"{scene.chem.credit_code},DA001,SIM0001,a21026,50,mg/m3,,,"]))
    _, port = listener
    # The command runs its own event loop (asyncio.run); run it in a thread of its own so that
    # a loop left running in this thread by an earlier browser test (Playwright's sync API)
    # cannot refuse it. The data it reads is committed (transactional_db).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(
            _call_closing,
            "cems_simulate",
            "--port",
            str(port),
            "--credit-code",
            scene.chem.credit_code,
            "--hours",
            "5",
            "--exceed-hours",
            "2",
        ).result()
    assert "SIM0001: sent 5, acknowledged 5" in capsys.readouterr().out
    values = list(CemsValue.objects.filter(device_mn="SIM0001").order_by("data_time").values_list("avg", flat=True))
    assert values == [30.0, 30.0, 30.0, 65.0, 67.5]
    lead = Lead.objects.get(source="cems")
    assert lead.detections == 2 and lead.target == scene.chem
