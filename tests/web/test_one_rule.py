"""One rule in one place: the API, the pages and the templates ask the same selectors and permissions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.web.conftest import PASSWORD


def _case_submitted(world):
    from supervision.cases.services import cases as case_services
    from supervision.cases.services import leads as lead_services
    from tests.cases.conftest import raw_file

    officer = world.users["officer_a"]
    lead = lead_services.lead_dispatch(lead=world.leads["a"], actor=officer, days=5)
    lead = lead_services.lead_start_verification(lead=lead, actor=officer)
    _, case = lead_services.lead_confirm(lead=lead, actor=officer)
    case = case_services.case_order_rectification(
        case=case, actor=officer, requirements="拆除", days=10, target_id=world.target.pk
    )
    return case_services.case_submit_rectification(case=case, actor=officer, files=[raw_file()])


@pytest.mark.django_db
def test_the_page_and_the_api_offer_the_same_actions(world, client):
    from supervision.cases.services.users import user_upsert

    case = _case_submitted(world)
    colleague, _ = user_upsert(
        username="officer_a2", role="enforcement_officer", division_adcode="220102", password=PASSWORD
    )
    for user, may_accept in ((world.users["officer_a"], False), (colleague, True)):
        api = APIClient()
        api.force_authenticate(user)
        actions = api.get(f"/api/v1/cases/{case.pk}/").json()["allowed_actions"]
        assert ("accept" in actions) is may_accept and "return" in actions
        client.force_login(user)
        page = client.get(f"/cases/{case.pk}/").content.decode()
        assert ('id="form-accept"' in page) is may_accept
        for action in actions:
            assert f'id="form-{action}"' in page
    lead = world.leads["a2"]
    api = APIClient()
    api.force_authenticate(world.users["officer_a"])
    assert api.get(f"/api/v1/leads/{lead.pk}/").json()["allowed_actions"] == ["dispatch", "attach"]


@pytest.mark.django_db
def test_layer_upload_is_refused_to_officers_on_the_page_as_in_the_api(world, client):
    client.force_login(world.users["officer_a"])
    assert client.post("/layers/", {}).status_code == 403
    api = APIClient()
    api.force_authenticate(world.users["officer_a"])
    assert api.post("/api/v1/change-layers/", {}, format="multipart").status_code == 403
    client.force_login(world.users["admin"])
    response = client.post("/layers/", {"kind": "landcover"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "file" in response.json()["error"] and "plan" in response.json()["error"]


@pytest.mark.django_db
def test_a_notification_opens_its_object_and_is_marked_read(world, client):
    from supervision.cases.models import Notification
    from supervision.cases.services import leads as lead_services

    lead_services.lead_dispatch(lead=world.leads["a"], actor=world.users["admin"], days=5)
    n = Notification.objects.filter(
        recipient=world.users["officer_a"], read_at__isnull=True, lead__isnull=False
    ).first()
    assert n is not None
    client.force_login(world.users["officer_b"])
    assert client.post(f"/desk/notifications/{n.pk}/", {"open": "1"}).status_code == 404
    client.force_login(world.users["officer_a"])
    desk = client.get("/desk/").content.decode()
    assert f'data-notification="{n.pk}"' in desk
    response = client.post(f"/desk/notifications/{n.pk}/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == f"/desk/leads/{n.lead_id}/"
    n.refresh_from_db()
    assert n.read_at is not None
    assert f'data-notification="{n.pk}"' not in client.get("/desk/").content.decode()
