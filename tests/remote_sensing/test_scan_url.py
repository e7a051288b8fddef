"""Rasters from anywhere: a Cloud-Optimized GeoTIFF served over HTTP with range requests.

A real nginx (Debian's nginx-light, see the Makefile's APT_PACKAGES) is started on a
free loopback port with a config in tmp_path, serving a COG written in tmp_path. The
scan reads it window by window through GDAL's /vsicurl/; its access log shows the
partial (206) responses.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import numpy as np
import pytest
import rasterio.shutil
from django.core.management import call_command
from rest_framework.test import APIClient

from supervision.cases.models import Evidence, Lead
from supervision.cases.services.users import user_upsert
from supervision.errors import ServiceError
from supervision.remote_sensing.choices import LayerStatus
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import layer_register, layer_scan

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def http_root(tmp_path):
    """(www directory, base URL, access log) of an nginx serving tmp_path/www on loopback."""
    if not shutil.os.path.exists(NGINX):
        pytest.skip("needs nginx (apt-get install nginx-light)")
    www = tmp_path / "www"
    www.mkdir()
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    # run as root (a container), the workers would drop to www-data, who cannot read tmp_path
    user = "user root;" if shutil.os.geteuid() == 0 else ""
    conf.write_text(
        f"""
{user}
daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {tmp_path}/access.log;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    types {{ image/tiff tif; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
"""
    )
    proc = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError((tmp_path / "error.log").read_text()) from None
                time.sleep(0.05)
        yield www, f"http://127.0.0.1:{port}", tmp_path / "access.log"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _cog(scene, tmp_path, www, name="change.tif"):
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 20, 20, 10, 1)
    plant(data, 250, 250, 12, 2)  # across the window corner (256, 256)
    plant(data, 400, 300, 10, 4)
    plain = scene.write(tmp_path / "plain.tif", data)
    rasterio.shutil.copy(plain, www / name, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=128)
    return data


def test_a_cog_over_http_is_scanned_window_by_window(
    plan, tmp_path, media, small_windows, http_root, django_capture_on_commit_callbacks
):
    www, base, access_log = http_root
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    _cog(scene, tmp_path, www)
    url = f"{base}/change.tif"
    layer = layer_register(plan=plan, path=url, kind="landcover").layer
    assert layer.path == url and layer.size_bytes == (www / "change.tif").stat().st_size
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
    assert Evidence.objects.count() == 3  # chips drawn from the URL too
    statuses = [line.split('"')[2].split()[0] for line in access_log.read_text().splitlines()]
    assert "206" in statuses  # range requests, not whole-file downloads

    # The same URL again: the same layer, re-scanned, nothing new.
    again = layer_register(plan=plan, path=url, kind="landcover")
    assert again.created is False and again.layer.pk == layer.pk


def test_a_url_is_validated_like_a_file(plan, tmp_path, media, http_root):
    www, base, _log = http_root
    with pytest.raises(ServiceError) as missing:
        layer_register(plan=plan, path=f"{base}/nothing.tif", kind="landcover")
    assert missing.value.code == "raster_open"
    (www / "junk.tif").write_bytes(b"not a tiff at all" * 100)
    with pytest.raises(ServiceError) as junk:
        layer_register(plan=plan, path=f"{base}/junk.tif", kind="landcover")
    assert junk.value.code == "raster_open"
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    _cog(scene, tmp_path, www, "float.tif")
    with pytest.raises(ServiceError) as wrong_kind:
        layer_register(plan=plan, path=f"{base}/float.tif", kind="ndvi_diff")
    assert wrong_kind.value.code == "raster_dtype"
    assert ChangeLayer.objects.count() == 0


def test_api_and_cli_accept_a_url(
    plan, tmp_path, media, small_windows, http_root, django_capture_on_commit_callbacks, capsys
):
    www, base, _log = http_root
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    _cog(scene, tmp_path, www)
    client = APIClient()
    client.force_authenticate(user_upsert(username="rs-admin", role="bureau_admin", password="pw-123456")[0])
    bad = client.post("/api/v1/change-layers/", {"plan": plan.code, "kind": "landcover", "url": "/etc/passwd"})
    assert bad.status_code == 400 and "url" in str(bad.json())
    neither = client.post("/api/v1/change-layers/", {"plan": plan.code, "kind": "landcover"}, format="json")
    assert neither.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            "/api/v1/change-layers/",
            {"plan": plan.code, "kind": "landcover", "url": f"{base}/change.tif"},
            format="json",
        )
    assert resp.status_code == 201, resp.json()
    body = client.get(f"/api/v1/change-layers/{resp.json()['id']}/").json()
    assert body["status"] == "done" and body["leads_created"] == 3
    assert body["source_url"] == f"{base}/change.tif" and body["state"] == "done"
    with django_capture_on_commit_callbacks(execute=True):
        call_command(
            "scan_change_layer", f"{base}/change.tif", "--plan", plan.code, "--kind", "landcover", "--timeout", "60"
        )
    out = capsys.readouterr().out
    assert "scanning it again" in out
    layer = ChangeLayer.objects.get()
    assert (layer.status, layer.scan_run, layer.leads_created, layer.leads_unchanged) == ("done", 2, 0, 3)
