"""Uploads are checked by their whole content, not by their first bytes."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from supervision.cases.models import Evidence, LeadEvent
from tests.cases.conftest import JPEG, PDF, PNG, upload

pytestmark = pytest.mark.django_db


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header announcing width×height pixels, with (almost) no data behind it."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _post(client_for, lead, *files):
    return client_for("officer").post(
        f"/api/v1/leads/{lead.pk}/attachments/", {"files": list(files)}, format="multipart"
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"<script>alert(1)</script>" * 20, "image/png"),
        ("truncated.png", PNG[: len(PNG) // 2], "image/png"),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 500, "image/jpeg"),
        ("fake.pdf", b"%PDF-1.4\n<html>not a pdf</html>\n" * 10, "application/pdf"),
        ("bomb.png", None, "image/png"),
    ],
)
def test_files_that_only_start_right_are_refused_400_with_a_code(make_lead, client_for, name, content, content_type):
    lead = make_lead()
    events = LeadEvent.objects.filter(lead=lead).count()
    content = content if content is not None else _bomb_png(100_000, 100_000)
    r = _post(client_for, lead, upload(name, content, content_type))
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "bad_attachment" and name in body["detail"]
    assert not Evidence.objects.filter(lead=lead).exists()
    assert LeadEvent.objects.filter(lead=lead).count() == events


def test_pixel_limit_is_a_setting(make_lead, client_for, settings):
    settings.CASES_ATTACHMENT_MAX_PIXELS = 100
    buf = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buf, format="PNG")
    r = _post(client_for, make_lead(), upload("big.png", buf.getvalue()))
    assert r.status_code == 400 and "at most 100 pixels" in r.json()["detail"]


def test_real_images_and_pdfs_are_accepted(make_lead, client_for):
    lead = make_lead()
    r = _post(
        client_for,
        lead,
        upload("a.png", PNG),
        upload("b.jpg", JPEG, "image/jpeg"),
        upload("c.pdf", PDF, "application/pdf"),
    )
    assert r.status_code == 201, r.content
    assert sorted(e["content_type"] for e in r.json()) == ["application/pdf", "image/jpeg", "image/png"]


def test_geotiff_upload_is_opened_with_rasterio_before_acceptance(client_for, scene):
    from supervision.remote_sensing.models import ChangeLayer

    r = client_for("admin").post(
        "/api/v1/change-layers/",
        {
            "file": SimpleUploadedFile("fake.tif", b"II*\x00" + b"\x00" * 4096, "image/tiff"),
            "plan": scene.plan.code,
            "kind": "landcover",
        },
        format="multipart",
    )
    assert r.status_code == 400 and r.json()["code"].startswith("raster_")
    assert not ChangeLayer.objects.exists()
