"""Attachments leave through the signed-in, scoped download route, never /media/."""

import io
import os

import pytest
from PIL import Image
from rest_framework.test import APIClient

from supervision.cases.choices import EvidenceKind
from supervision.cases.services.leads import EvidenceFile

pytestmark = pytest.mark.django_db


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def chip_lead(make_lead):
    """A district-A scan lead with its before/after image chip, as a scan raises it."""
    content = png_bytes()
    lead = make_lead(
        files=[EvidenceFile(name="chip-after.png", content=content, kind=EvidenceKind.CHIP, content_type="image/png")]
    )
    return lead, lead.evidence_files.get(), content


def test_owner_downloads_the_file_with_safe_headers(chip_lead, client_for):
    lead, evidence, content = chip_lead
    client = client_for("officer")
    detail = client.get(f"/api/v1/leads/{lead.pk}/").json()
    url = detail["properties"]["attachments"][0]["url"] if "properties" in detail else detail["attachments"][0]["url"]
    assert "/media/" not in url and url.endswith(f"/api/v1/attachments/{evidence.pk}/download/")
    r = client.get(f"/api/v1/attachments/{evidence.pk}/download/")
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == content
    assert r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["Content-Disposition"].startswith("inline;") and "chip-after" in r["Content-Disposition"]
    # City-wide roles see every district's files.
    assert client_for("admin").get(f"/api/v1/attachments/{evidence.pk}/download/").status_code == 200


def test_other_district_gets_the_same_404_as_a_missing_attachment(chip_lead, client_for):
    _, evidence, _ = chip_lead
    foreign = client_for("officer_b").get(f"/api/v1/attachments/{evidence.pk}/download/")
    missing = client_for("officer_b").get("/api/v1/attachments/99999999/download/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["code"] == missing.json()["code"] == "not_found"
    # A signed-in user with no role in cases sees nothing either.
    assert client_for("nobody").get(f"/api/v1/attachments/{evidence.pk}/download/").status_code in (403, 404)


def test_anonymous_is_refused(chip_lead):
    _, evidence, _ = chip_lead
    r = APIClient().get(f"/api/v1/attachments/{evidence.pk}/download/")
    assert r.status_code in (401, 403)
    assert "Content-Disposition" not in r


def test_missing_file_is_a_404_naming_it_not_a_500(chip_lead, client_for):
    _, evidence, _ = chip_lead
    os.unlink(evidence.file.path)
    r = client_for("officer").get(f"/api/v1/attachments/{evidence.pk}/download/")
    assert r.status_code == 404
    assert r.json()["code"] == "file_missing"
    assert str(evidence.pk) in r.json()["detail"] and "/" not in r.json()["detail"]


def test_desk_page_route_applies_the_same_scope(chip_lead, users, client):
    lead, evidence, content = chip_lead
    client.force_login(users["officer"])
    page = client.get(f"/desk/leads/{lead.pk}/")
    assert page.status_code == 200
    assert f"/desk/evidence/{evidence.pk}/" in page.content.decode() and "/media/" not in page.content.decode()
    r = client.get(f"/desk/evidence/{evidence.pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == content
    assert r["X-Content-Type-Options"] == "nosniff"
    client.force_login(users["officer_b"])
    assert client.get(f"/desk/evidence/{evidence.pk}/").status_code == 404
