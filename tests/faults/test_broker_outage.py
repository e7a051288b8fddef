"""Redis stops while the app runs: requests that queue work still answer, the sweep sends it later."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from supervision.cases.models import Notification
from supervision.cases.services.notifications import notifications_send_email
from supervision.cases.services.tokens import token_issue
from supervision.cases.services.users import user_upsert
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from tests.factories import PlanFactory
from tests.remote_sensing.conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db(transaction=True)

SCAN_TASK = "supervision.remote_sensing.tasks.change_layer_scan"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content, ctype) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def geotiff(tmp_path, plan, name: str, value: int) -> bytes:
    scene = scene_for("EPSG:32651", size=200)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 20, 20, 8, value)
    return open(scene.write(tmp_path / name, data), "rb").read()


def queued_scan_messages(redis_server) -> list[str]:
    """argsrepr of the scan tasks waiting in the broker's default queue."""
    out = []
    for raw in redis_server.client().lrange("celery", 0, -1):
        headers = json.loads(raw)["headers"]
        if headers["task"] == SCAN_TASK:
            out.append(headers["argsrepr"])
    return out


def test_redis_down_upload_answers_stays_queued_and_the_sweep_sends_it_later(
    private_redis, app_server_factory, tmp_path
):
    plan = PlanFactory(code="fault-rs")
    three_units(plan, scene_for("EPSG:32651", size=200))
    user, _ = user_upsert(username="fault-admin", role="bureau_admin", password="pw-123456")
    token = token_issue(user=user).key
    server = app_server_factory(broker_url=private_redis.url)

    status, health = server.json("GET", "/healthz/")
    assert (status, health) == (200, {"status": "ok", "database": "ok", "broker": "ok"})

    private_redis.stop()
    status, health = server.json("GET", "/healthz/")
    assert status == 503
    assert health["database"] == "ok" and health["broker"] == "unavailable" and health["failing"] == ["broker"]

    body, ctype = multipart(
        {"plan": plan.code, "kind": "landcover", "after_date": "2024-09-01"},
        {"file": ("outage.tif", geotiff(tmp_path, plan, "outage.tif", 2), "image/tiff")},
    )
    status, content, elapsed = server.request(
        "POST", "/api/v1/change-layers/", token=token, body=body, content_type=ctype
    )
    # The change committed: success, quickly (short broker timeouts), never a 500 or a 19 s hang.
    assert status == 201, content[-2000:]
    assert elapsed < 10, elapsed
    layer = ChangeLayer.objects.get(pk=json.loads(content)["id"])
    assert layer.status == LayerStatus.QUEUED and layer.task_sent_at is not None

    private_redis.start()
    assert queued_scan_messages(private_redis) == []  # the message was never delivered
    sweep = server.manage("requeue_queued", "--older-than-minutes", "0")
    assert sweep.returncode == 0, sweep.stderr
    assert sweep.stdout.strip() == f"1 change layers sent again: {layer.pk}"
    assert queued_scan_messages(private_redis) == [f"({layer.pk},)"]
    layer.refresh_from_db()
    assert layer.status == LayerStatus.QUEUED  # no worker here: the task waits in the queue

    # Safe to run twice: within the requeue delay the same layer is not sent again.
    again = server.manage("requeue_queued")
    assert again.returncode == 0 and again.stdout.strip() == "0 change layers sent again"
    assert len(queued_scan_messages(private_redis)) == 1

    # The web process recovers by itself: health is ok and the next upload's task is sent at once.
    status, health = server.json("GET", "/healthz/")
    assert (status, health["broker"]) == (200, "ok")
    body, ctype = multipart(
        {"plan": plan.code, "kind": "landcover"},
        {"file": ("after.tif", geotiff(tmp_path, plan, "after.tif", 4), "image/tiff")},
    )
    status, content, _ = server.request("POST", "/api/v1/change-layers/", token=token, body=body, content_type=ctype)
    assert status == 201, content[-2000:]
    second = json.loads(content)["id"]
    assert sorted(queued_scan_messages(private_redis)) == sorted([f"({layer.pk},)", f"({second},)"])


def test_sweep_refuses_a_negative_delay(private_redis, app_server_factory):
    server = app_server_factory(broker_url=private_redis.url)
    result = server.manage("requeue_queued", "--older-than-minutes", "-1")
    assert result.returncode == 1
    assert result.stderr.strip() == "--older-than-minutes must be 0 or more."


def test_redis_down_dispatch_answers_and_its_notification_email_waits_for_the_sweep(
    private_redis, app_server_factory, make_lead, users, mailoutbox
):
    lead = make_lead()
    token = token_issue(user=users["admin"]).key
    server = app_server_factory(broker_url=private_redis.url)
    private_redis.stop()
    status, content, elapsed = server.request(
        "POST",
        f"/api/v1/leads/{lead.pk}/dispatch/",
        token=token,
        body=json.dumps({"days": 5, "day_kind": "working"}).encode(),
        content_type="application/json",
    )
    # Committed (status and notification rows), answered at once; the email task was not sent.
    assert status == 200, content[-2000:]
    assert elapsed < 10, elapsed
    lead.refresh_from_db()
    assert lead.status == "dispatched"
    pending = Notification.objects.filter(lead=lead, recipient=users["officer"], emailed_at__isnull=True)
    assert pending.count() == 1
    # The beat entry `cases-notification-emails` runs this: the pending email goes out then.
    private_redis.start()
    assert notifications_send_email() == 1
    assert [m.to for m in mailoutbox] == [["officer@example.test"]]
    assert not pending.exists()
