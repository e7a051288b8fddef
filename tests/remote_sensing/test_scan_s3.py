"""Rasters from anywhere: a Cloud-Optimized GeoTIFF in an S3 bucket, read through GDAL's /vsis3/.

The S3 server is moto's standalone server (`python -m moto.server`, requirements-dev),
started on a free loopback port: a real HTTP server speaking the S3 REST protocol, with
request signing (AWS Signature V4) and IAM policies enforced after the first few setup
calls (`INITIAL_NO_AUTH_ACTION_COUNT`). The scan is configured only by the environment
variables README documents (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_S3_ENDPOINT,
AWS_VIRTUAL_HOSTING=FALSE, AWS_HTTPS=NO, AWS_REGION), as a worker would be.

GDAL caches what it learnt about a URL for the life of the process, so every test uses
its own bucket.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid

import pytest
from django.core.management import call_command

from supervision.cases.models import Evidence, Lead
from supervision.errors import ServiceError
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import layer_register, layer_scan

from .conftest import scene_for, three_units
from .test_scan_url import _cog, _free_port

pytestmark = pytest.mark.django_db

boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")

REGION = "us-east-1"
# create_user, create_access_key, put_user_policy (reader), create_user, create_access_key (outsider)
_SETUP_CALLS = 5


@pytest.fixture
def s3(tmp_path, monkeypatch):
    """A moto S3 server on loopback; yields (boto3 client as the reader, reader key, outsider key, port)."""
    port = _free_port()
    log = open(tmp_path / "moto.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={"PATH": "/usr/bin:/bin", "INITIAL_NO_AUTH_ACTION_COUNT": str(_SETUP_CALLS)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp_path / "moto.log").read_text()) from None
                time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        anyone = {"endpoint_url": endpoint, "region_name": REGION, "aws_access_key_id": "setup"}
        iam = boto3.client("iam", aws_secret_access_key="setup", **anyone)
        iam.create_user(UserName="scanner")
        reader = iam.create_access_key(UserName="scanner")["AccessKey"]
        iam.put_user_policy(
            UserName="scanner",
            PolicyName="read-rasters",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            ),
        )
        iam.create_user(UserName="outsider")  # no policy: every S3 call is denied
        outsider = iam.create_access_key(UserName="outsider")["AccessKey"]
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=reader["AccessKeyId"],
            aws_secret_access_key=reader["SecretAccessKey"],
        )
        # What a worker's environment holds (README, "Rasters from anywhere")
        for name, value in {
            "AWS_ACCESS_KEY_ID": reader["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": reader["SecretAccessKey"],
            "AWS_S3_ENDPOINT": f"127.0.0.1:{port}",
            "AWS_VIRTUAL_HOSTING": "FALSE",
            "AWS_HTTPS": "NO",
            "AWS_REGION": REGION,
        }.items():
            monkeypatch.setenv(name, value)
        yield client, reader, outsider, tmp_path / "moto.log"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _bucket_with_cog(client, tmp_path, key: str = "change.tif") -> str:
    bucket = f"rasters-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    www = tmp_path / "cog"
    www.mkdir(exist_ok=True)
    _cog(scene_for("EPSG:32651"), tmp_path, www, key)
    client.upload_file(str(www / key), bucket, key)
    return bucket


def test_a_cog_in_s3_is_scanned_window_by_window(
    plan, tmp_path, media, small_windows, s3, django_capture_on_commit_callbacks, capsys
):
    client, _reader, _outsider, log = s3
    three_units(plan, scene_for("EPSG:32651"))
    bucket = _bucket_with_cog(client, tmp_path)
    url = f"s3://{bucket}/change.tif"
    layer = layer_register(plan=plan, path=url, kind="landcover").layer
    assert layer.path == url
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=layer)
    layer.refresh_from_db()
    assert layer.status == LayerStatus.DONE, layer.error
    assert layer.windows_total == 9 and layer.leads_created == 3
    assert sorted((lead.unit.unit_class, lead.change_class) for lead in Lead.objects.all()) == [
        ("key", 2),
        ("key", 4),
        ("priority", 1),
    ]
    assert Evidence.objects.count() == 3  # the chips read the object too
    # signed range requests against the server, not a download of the whole object
    requests = [line for line in log.read_text().splitlines() if f"/{bucket}/change.tif" in line]
    assert any('" 206 ' in line for line in requests), requests[-5:]

    # The command with the same URL: the same layer, scanned again, nothing new.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("scan_change_layer", url, "--plan", plan.code, "--kind", "landcover", "--timeout", "60")
    assert "scanning it again" in capsys.readouterr().out
    layer.refresh_from_db()
    assert (layer.status, layer.scan_run, layer.leads_created, layer.leads_unchanged) == ("done", 2, 0, 3)


def test_a_missing_s3_object_is_refused_clearly(plan, tmp_path, media, s3):
    client, _reader, _outsider, _log = s3
    three_units(plan, scene_for("EPSG:32651"))
    bucket = _bucket_with_cog(client, tmp_path)
    with pytest.raises(ServiceError) as missing:
        layer_register(plan=plan, path=f"s3://{bucket}/nothing.tif", kind="landcover")
    assert missing.value.code == "raster_open"
    message = str(missing.value.message)
    assert f"s3://{bucket}/nothing.tif" in message and "does not exist" in message
    assert ChangeLayer.objects.count() == 0


def test_s3_credentials_without_access_are_refused_clearly(plan, tmp_path, media, s3, monkeypatch):
    client, reader, outsider, _log = s3
    three_units(plan, scene_for("EPSG:32651"))
    bucket = _bucket_with_cog(client, tmp_path, "denied.tif")
    # a user the bucket does not allow: S3 answers 403 AccessDenied
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", outsider["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", outsider["SecretAccessKey"])
    with pytest.raises(ServiceError) as denied:
        layer_register(plan=plan, path=f"s3://{bucket}/denied.tif", kind="landcover")
    assert denied.value.code == "raster_open"
    assert "access denied" in str(denied.value.message).lower(), denied.value.message
    # a wrong secret: the server refuses the signature
    bucket2 = _bucket_with_cog(client, tmp_path, "forged.tif")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", reader["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(ServiceError) as forged:
        layer_register(plan=plan, path=f"s3://{bucket2}/forged.tif", kind="landcover")
    assert forged.value.code == "raster_open"
    assert "signature" in str(forged.value.message).lower(), forged.value.message
    assert ChangeLayer.objects.count() == 0
