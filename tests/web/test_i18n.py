"""Messages in the reader's language: service errors carry a code and a translated message, the API's
`detail` follows Accept-Language (default Chinese), pages follow the chosen language, and every English
message written in Python has its Chinese in locale/zh_Hans."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from supervision.errors import ServiceError, without_dirs
from tests.web.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _catalogue(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        return dict(gettext.GNUTranslations(fh)._catalog)


def test_every_english_message_in_python_has_its_chinese():
    if not shutil.which("xgettext"):
        pytest.skip("xgettext (Debian package gettext) is not installed")
    sources = sorted(str(p) for p in (ROOT / "supervision").rglob("*.py") if "migrations" not in p.parts)
    out = subprocess.run(
        ["xgettext", "-L", "Python", "--keyword=_", "--keyword=gettext_lazy", "--from-code=UTF-8", "-o", "-", *sources],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    msgids = set()
    for block in out.split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if match:
            text = (
                "".join(re.findall(r'"(.*)"', match.group(1)))
                .encode()
                .decode("unicode_escape")
                .encode("latin-1")
                .decode("utf-8")
            )
            if text and not re.search(r"[\u4e00-\u9fff]", text):
                msgids.add(text)
    zh = _catalogue(MO)
    missing = sorted(m for m in msgids if not zh.get(m))
    assert not missing, "no Chinese in locale/zh_Hans for: " + " | ".join(missing[:20])


def test_the_compiled_catalogue_is_the_po_file(tmp_path):
    if not shutil.which("msgfmt"):
        pytest.skip("msgfmt (Debian package gettext) is not installed")
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-c", "-o", str(fresh), str(PO)], check=True)
    assert _catalogue(fresh) == _catalogue(MO), "run `make messages` and commit locale/zh_Hans/LC_MESSAGES/django.mo"


def test_a_message_never_shows_a_server_path():
    exc = ServiceError(
        "Raster file '/srv/app/var/change_layers/ab12-x.tif' cannot be read", problems=["/tmp/y.csv: bad"]
    )
    assert exc.message == "Raster file 'ab12-x.tif' cannot be read" and exc.problems == ["y.csv: bad"]
    assert without_dirs("1/2 of 3 windows, 50 %") == "1/2 of 3 windows, 50 %"


def test_a_problem_already_in_the_message_is_not_said_twice():
    exc = ServiceError("Attachment refused: 'a.gif' is not a JPEG.", problems=["'a.gif' is not a JPEG."])
    assert exc.text() == "Attachment refused: 'a.gif' is not a JPEG."
    assert ServiceError("Refused.", problems=["row 2: x"]).text() == "Refused. row 2: x"


def test_a_service_error_is_written_in_the_active_language(scene_lead):
    from supervision.cases.services.leads import lead_dismiss

    lead, officer = scene_lead
    for lang, text in (("en", "A reason is required to dismiss a lead."), ("zh-hans", "排除线索须填写理由。")):
        with translation.override(lang), pytest.raises(ServiceError) as exc:
            lead_dismiss(lead=lead, actor=officer, reason="", reason_code="other")
        assert exc.value.message == text and exc.value.code == "reason_required"


@pytest.fixture
def scene_lead(world):
    return world.leads["a"], world.users["officer_a"]


def test_the_api_detail_follows_accept_language_and_defaults_to_chinese(world):
    client = APIClient()
    client.force_authenticate(world.users["officer_a"])
    lead = world.leads["a"]
    url = f"/api/v1/leads/{lead.pk}/dispatch/"
    body = {"due_date": "2000-01-01"}
    default = client.post(url, body, format="json").json()
    english = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.post(url, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").json()
    assert default["code"] == english["code"] == chinese["code"]
    assert "已过" in default["detail"] and default["detail"] == chinese["detail"]
    assert "is in the past" in english["detail"]


def test_a_stale_second_step_says_who_did_it_first(world):
    client = APIClient()
    client.force_authenticate(world.users["officer_a"])
    lead = world.leads["a"]
    url = f"/api/v1/leads/{lead.pk}/dispatch/"
    assert client.post(url, {"days": 5}, format="json").status_code == 200
    again = client.post(url, {"days": 5}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert "已由 officer_a 于" in again.json()["detail"] and "已派发" in again.json()["detail"]
    english = client.post(url, {"days": 5}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert "officer_a set it to" in english and "'dispatched' to 'dispatched'" not in english


def test_the_language_menu_names_each_language_in_itself(world, client):
    client.login(username="officer_a", password=PASSWORD)
    for lang in ("zh-hans", "en"):
        client.cookies["django_language"] = lang
        page = client.get("/desk/").content.decode()
        assert ">English</option>" in page and ">中文</option>" in page and "英语" not in page
