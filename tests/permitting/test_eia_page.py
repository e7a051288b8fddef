"""Recording an EIA approval on a page: the API's serializer, permission rule and service."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from supervision.cases.services.users import user_upsert
from supervision.permitting.models import EiaApproval

URL = "/eia/approvals/new/"


@pytest.fixture
def admin(pscene):
    user, _ = user_upsert(username="eia-page-admin", role="bureau_admin", password="pw-123456", email="a@example.test")
    return user


def page_client(user, language="zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def body(**kw):
    return {
        "kind": "project",
        "project_name": "精细化工项目",
        "project_type": "new",
        "industry_code": "C2614",
        "lon": "125.305",
        "lat": "43.805",
        "geom": "",
        "authority": "长春市生态环境局",
        "document_number": "长环审〔2025〕21号",
        "approved_on": "2025-03-01",
        "target": "",
        **kw,
    }


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_prohibited_industry_entered_on_the_page_shows_the_conflict_and_its_clause(admin, pscene):
    client = page_client(admin)
    assert client.get(URL).status_code == 200
    r = client.post(URL, body(target=pscene.chem.credit_code), follow=True)
    assert r.status_code == 200
    approval = EiaApproval.objects.get()
    assert r.redirect_chain[-1][0] == f"/eia/approvals/{approval.pk}/"
    assert (approval.verdict, approval.conforms, approval.target) == ("prohibited", False, pscene.chem)
    html = r.content.decode()
    assert "与准入清单冲突" in html and "ZH-1" in html and "禁止新建、扩建化工项目" in html
    # A polygon given as WKT is assessed too; the brewery's industry conforms.
    wkt = "POLYGON((125.301 43.801,125.302 43.801,125.302 43.802,125.301 43.802,125.301 43.801))"
    r = client.post(
        URL, body(lon="", lat="", geom=wkt, industry_code="C1512", document_number="长环审〔2025〕22号"), follow=True
    )
    assert EiaApproval.objects.get(document_number="长环审〔2025〕22号").conforms is True
    assert "符合准入要求" in r.content.decode()
    # The conflicts page lists the first and links the entry page.
    html = client.get("/eia/conflicts/").content.decode()
    assert "长环审〔2025〕21号" in html and "长环审〔2025〕22号" not in html and URL in html


@pytest.mark.parametrize(
    "bad",
    [
        {"lon": "", "lat": ""},  # no site
        {"lon": "", "lat": "", "geom": "POLYGON((1 2, 3"},  # unreadable WKT
        {"approved_on": "2020-01-01"},  # before the plan took effect: the service refuses
    ],
)
def test_a_bad_input_shows_a_message_and_writes_nothing(admin, pscene, bad):
    r = page_client(admin).post(URL, body(**bad))
    assert r.status_code == 400
    assert len(page_messages(r)) == 1
    assert not EiaApproval.objects.exists()


def test_a_role_without_access_gets_403_and_anonymous_users_sign_in(pscene):
    officer, _ = user_upsert(
        username="eia-officer",
        role="enforcement_officer",
        division_adcode="220102",
        password="pw-123456",
        email="o@x.test",
    )
    client = page_client(officer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, body()).status_code == 403
    assert not EiaApproval.objects.exists()
    assert "录入环评审批" not in client.get("/eia/conflicts/").content.decode()
    assert Client().get(URL).status_code == 302


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"lon": "", "lat": "", "geom": "not a geometry"}, 400),
        ({"lon": "200"}, 400),
        ({"approved_on": "2020-01-01"}, 400),
    ],
)
def test_the_api_and_the_page_refuse_the_same_input_with_the_same_message(admin, pscene, bad, code):
    for language in ("en", "zh-hans"):
        api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
        api.force_authenticate(admin)
        r = api.post("/api/v1/permitting/eia-approvals/", body(**bad))
        assert r.status_code == code, r.json()
        shown = page_messages(page_client(admin, language).post(URL, body(**bad)))
        assert shown == [r.json()["detail"]]
    assert not EiaApproval.objects.exists()


def test_the_duplicate_refusal_is_translated_on_the_page(admin, pscene):
    client = page_client(admin)
    client.post(URL, body(), follow=True)  # shows (and so consumes) the success message
    r = client.post(URL, body())
    assert r.status_code == 400 and EiaApproval.objects.count() == 1
    assert page_messages(r) == ["批复文号 长环审〔2025〕21号 的审批已登记。"]
