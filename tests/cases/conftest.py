"""Shared scene for the cases tests: two districts, a plan with one unit each, targets, one user per role."""

import io
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from supervision.cases.models import EnforcementTarget
from supervision.cases.services.leads import lead_raise
from supervision.cases.services.users import user_upsert
from supervision.cases.validators import credit_code_check_char
from tests.factories import DivisionFactory, PlanFactory, UnitFactory, square

TZ = timezone.get_default_timezone()


def _image(fmt: str) -> bytes:
    """A small real image: attachments are decoded in full, so magic bytes alone do not pass."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (30, 120, 60)).save(buf, format=fmt)
    return buf.getvalue()


def _pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
PDF = _pdf()


def at(*args) -> datetime:
    return timezone.make_aware(datetime(*args), TZ)


def credit_code(adcode: str, n: int) -> str:
    first17 = f"91{adcode}MA{n:07d}"
    return first17 + credit_code_check_char(first17)


def upload(name="photo.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def raw_file(name="photo.png", content=PNG):
    f = io.BytesIO(content)
    f.name = name
    f.size = len(content)
    return f


@pytest.fixture
def scene(db):
    """Two districts (南关区 220102, 宽城区 220103), a plan, a priority and a key unit, a target in each."""
    nanguan = DivisionFactory(adcode="220102", name="南关区")
    kuancheng = DivisionFactory(adcode="220103", name="宽城区")
    plan = PlanFactory(code="changchun-test")
    unit_a = UnitFactory(
        plan=plan, division=nanguan, code="ZH22010210001", unit_class="priority", geom=square(125.30, 43.80)
    )
    unit_b = UnitFactory(
        plan=plan, division=kuancheng, code="ZH22010320001", unit_class="key", geom=square(125.40, 43.90)
    )
    target_a = EnforcementTarget.objects.create(
        name="南关化工",
        credit_code=credit_code("220102", 1),
        location=Point(125.305, 43.805, srid=4490),
        division=nanguan,
        unit=unit_a,
        industry_code="C2614",
        permit_class="key",
    )
    target_b = EnforcementTarget.objects.create(
        name="宽城热电",
        credit_code=credit_code("220103", 2),
        location=Point(125.405, 43.905, srid=4490),
        division=kuancheng,
        unit=unit_b,
        industry_code="D4411",
        permit_class="key",
    )

    class Scene:
        pass

    s = Scene()
    s.nanguan, s.kuancheng, s.plan = nanguan, kuancheng, plan
    s.unit_a, s.unit_b, s.target_a, s.target_b = unit_a, unit_b, target_a, target_b
    return s


ROLE_USERS = {
    "officer": ("enforcement_officer", "220102"),
    "officer_b": ("enforcement_officer", "220103"),
    "inspector": ("inspector", None),
    "assessor": ("assessor", None),
    "planner": ("planner", None),
    "admin": ("bureau_admin", None),
}


@pytest.fixture
def users(scene):
    out = {}
    for key, (role, adcode) in ROLE_USERS.items():
        out[key], _ = user_upsert(
            username=key, role=role, division_adcode=adcode, password="pw-123456", email=f"{key}@example.test"
        )
    out["nobody"] = get_user_model().objects.create_user("nobody", password="pw-123456")
    return out


@pytest.fixture
def client_for(users):
    def make(key):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(users[key])
        return client

    return make


@pytest.fixture
def make_lead(scene):
    counter = {"n": 0}

    def make(division="a", **kwargs):
        counter["n"] += 1
        unit = scene.unit_a if division == "a" else scene.unit_b
        target = scene.target_a if division == "a" else scene.target_b
        defaults = dict(
            source="remote_sensing",
            source_key=f"test:{counter['n']}",
            plan=scene.plan,
            geom=square(unit.geom.extent[0] + 0.001, unit.geom.extent[1] + 0.001, 0.002),
            title=f"植被减少 {counter['n']}",
            reason="NDVI 下降",
            unit=unit,
            target=target,
        )
        defaults.update(kwargs)
        return lead_raise(**defaults).lead

    return make
