"""Every page × every role with Django's test client: login, roles and division scope (404, not 403)."""

from __future__ import annotations

import json
import re

import pytest

from tests.web.conftest import PASSWORD

ROLES = ["anonymous", "officer_a", "officer_b", "inspector", "assessor", "planner", "admin"]
USERNAMES = {
    "officer_a": "officer_a",
    "officer_b": "officer_b",
    "inspector": "inspector_w",
    "assessor": "assessor_w",
    "planner": "planner_w",
    "admin": "admin_w",
}
LOGIN = 302  # anonymous: redirected to the login page

# page -> expected status per role, in ROLES order.
PAGES = {
    "/map/": [LOGIN, 200, 200, 200, 200, 200, 200],
    "/map/overlays.json?plan=web-city": [LOGIN, 200, 200, 200, 200, 200, 200],
    "/map/units/web-city/ZH22010210001/": [LOGIN, 200, 200, 200, 200, 200, 200],
    "/map/units/web-city/ZH22010210001/activity/": [LOGIN, 200, 200, 200, 200, 200, 200],
    "/map/summary/?plan=web-city": [LOGIN, 200, 200, 200, 200, 200, 200],
    "/map/leads.json?plan=web-city": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/map/targets.json": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/desk/": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/desk/leads/{lead_a}/": [LOGIN, 200, 404, 200, 200, 403, 200],
    "/desk/leads/{lead_b}/": [LOGIN, 404, 200, 200, 200, 403, 200],
    "/cases/": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/layers/": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/inspections/": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/assessment/?plan=web-city&period=2025-Q3": [LOGIN, 200, 200, 200, 200, 403, 200],
    "/assessment/export.csv?plan=web-city&period=2025-Q3": [LOGIN, 403, 403, 403, 200, 403, 200],
    "/assessment/export.xlsx?plan=web-city&period=2025-Q3": [LOGIN, 403, 403, 403, 200, 403, 200],
    # Public pages are off unless PUBLIC_ZONING=true.
    "/public/": [404] * 7,
    "/public/cases/": [404] * 7,
}


def _client(client, role):
    if role != "anonymous":
        assert client.login(username=USERNAMES[role], password=PASSWORD)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_every_page_answers_each_role_as_the_workflow_rules_say(world, client, role):
    _client(client, role)
    got, want = {}, {}
    for path, expected in PAGES.items():
        url = path.format(lead_a=world.leads["a"].pk, lead_b=world.leads["b"].pk)
        got[url] = client.get(url).status_code
        want[url] = expected[ROLES.index(role)]
    assert got == want


@pytest.mark.django_db
def test_officer_inbox_and_map_layer_hold_only_their_district(world, client):
    _client(client, "officer_a")
    ids = {f["properties"]["id"] for f in client.get("/map/leads.json?plan=web-city").json()["features"]}
    assert ids == {world.leads["a"].pk, world.leads["a2"].pk}
    html = client.get("/desk/").content.decode()
    assert f'data-lead="{world.leads["b"].pk}"' not in html and f'data-lead="{world.leads["a"].pk}"' in html


@pytest.mark.django_db
def test_another_districts_case_and_evidence_are_404(world, client):
    from supervision.cases.services.leads import lead_confirm, lead_dispatch, lead_start_verification

    admin = world.users["admin"]
    lead = lead_dispatch(lead=world.leads["b"], actor=admin, days=5, day_kind="working")
    lead = lead_start_verification(lead=lead, actor=admin)
    _, case = lead_confirm(lead=lead, actor=admin)
    _client(client, "officer_a")
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.post(f"/cases/{case.pk}/accept/").status_code == 404
    assert client.post(f"/desk/leads/{lead.pk}/attach/").status_code == 404
    client.logout()
    _client(client, "officer_b")
    assert client.get(f"/cases/{case.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_refused_transition_shows_the_services_message_and_changes_nothing(world, client):
    _client(client, "officer_a")
    lead = world.leads["a"]
    response = client.post(f"/desk/leads/{lead.pk}/dispatch/", {"due_date": "2000-01-01"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "截止日期 2000-01-01 已过" in page and "in the past" not in page  # the page's language, once
    assert page.count("截止日期 2000-01-01 已过") == 1
    client.cookies["django_language"] = "en"
    response = client.post(f"/desk/leads/{lead.pk}/dispatch/", {"due_date": "2000-01-01"}, follow=True)
    assert "The deadline 2000-01-01 is in the past" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == "new"


@pytest.mark.django_db
def test_public_pages_expose_only_zoning_and_published_cases(world, client, settings):
    settings.PUBLIC_ZONING = True
    assert client.get("/public/").status_code == 200
    assert client.get("/public/units/web-city/ZH22010210001/").status_code == 200
    assert client.get("/public/overlays.json?plan=web-city").status_code == 200
    assert client.get("/public/cases/").status_code == 200
    response = client.post(
        "/public/siting/",
        {"plan": "web-city", "lon": "125.31", "lat": "43.815", "industry_code": "C2614", "project_type": "new"},
    )
    assert 'data-verdict="prohibited"' in response.content.decode()
    # Nothing of the workflow: the public map has no lead/target layers, those pages still need a login.
    html = client.get("/public/").content.decode()
    assert "leads.json" not in html and "targets.json" not in html
    for path in ("/desk/", "/map/leads.json", "/layers/", "/assessment/", f"/desk/leads/{world.leads['a'].pk}/"):
        assert client.get(path).status_code == LOGIN, path


@pytest.mark.django_db
def test_language_switch_serves_the_english_catalogue(world, client):
    _client(client, "officer_a")
    client.post("/i18n/setlang/", {"language": "en", "next": "/desk/"})
    html = client.get("/desk/").content.decode()
    assert "Lead desk" in html and 'lang="en"' in html


@pytest.mark.django_db
def test_district_outlines_name_each_district_of_the_plan(world, client, settings):
    from django.contrib.gis.geos import GEOSGeometry

    from supervision.zoning.models import ControlUnit

    settings.PUBLIC_ZONING = True
    fc = client.get("/public/districts.json?plan=web-city").json()
    by_code = {f["id"]: f for f in fc["features"]}
    assert {code: f["properties"]["name"] for code, f in by_code.items()} == {"220102": "南关区", "220103": "宽城区"}
    # 南关区 is the union of its two units: it covers both and little else.
    outline = GEOSGeometry(json.dumps(by_code["220102"]["geometry"]), srid=4326)
    for unit in ControlUnit.objects.filter(plan=world.plan, division__adcode="220102"):
        assert outline.buffer(1e-4).contains(unit.geom.transform(4326, clone=True))
    assert abs(outline.area - sum(u.geom.area for u in world.plan.units.filter(division__adcode="220102"))) < 1e-5
    # Without PUBLIC_ZONING the public outlines are not served.
    settings.PUBLIC_ZONING = False
    assert client.get("/public/districts.json?plan=web-city").status_code == 404


@pytest.mark.django_db
def test_lead_map_data_carries_the_unit_the_red_line_and_the_patch(world, client):
    _client(client, "officer_a")
    response = client.get(f"/desk/leads/{world.leads['a'].pk}/")
    config = json.loads(re.search(r'id="lead-map-config"[^>]*>(.*?)</script>', response.content.decode(), re.S)[1])
    assert config["unit"]["code"] == "ZH22010210001" and config["unit"]["geometry"]["type"] == "MultiPolygon"
    assert [r["code"] for r in config["redLines"]] == ["HX-0001"]
    assert config["site"]["type"] == "Point"
    # The lead in the other unit of the district meets no red line.
    response = client.get(f"/desk/leads/{world.leads['a2'].pk}/")
    config = json.loads(re.search(r'id="lead-map-config"[^>]*>(.*?)</script>', response.content.decode(), re.S)[1])
    assert config["unit"]["code"] == "ZH22010220001" and config["redLines"] == []


def _json_script(html: str, element_id: str):
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html, re.S)[1])


@pytest.mark.django_db
def test_desk_map_draws_the_desks_filtered_leads_as_tiles(world, client):
    import mapbox_vector_tile

    _client(client, "officer_a")
    config = _json_script(client.get("/desk/?status=open&q=群众举报&overdue=0").content.decode(), "desk-map-config")
    assert config["tileParams"] == {"status": ["dispatched", "new", "verifying"], "q": "群众举报"}
    minx, miny, maxx, maxy = config["bounds"]
    assert 125.30 < minx <= 125.31 and 125.33 <= maxx < 125.34 and 43.80 < miny <= maxy < 43.82
    # The same parameters on the lead tiles: the district's two leads (a zoom-12 tile over the city).
    query = "&".join(
        f"{k}={v}"
        for k, values in config["tileParams"].items()
        for v in (values if isinstance(values, list) else [values])
    )
    tile = client.get(f"/api/v1/tiles/leads/12/3473/1492.pbf?{query}")
    ids = {f["properties"]["id"] for f in mapbox_vector_tile.decode(tile.content)["leads"]["features"]}
    assert ids == {world.leads["a"].pk, world.leads["a2"].pk}
    # A marker's popup asks the lead layer for its one lead; another district's lead is not there.
    one = client.get(f"/map/leads.json?id={world.leads['a'].pk}").json()["features"]
    assert [f["properties"]["id"] for f in one] == [world.leads["a"].pk] and one[0]["properties"]["status_label"]
    assert client.get(f"/map/leads.json?id={world.leads['b'].pk}").json()["features"] == []
    target = client.get(f"/map/targets.json?id={world.target.pk}").json()["features"]
    assert [f["properties"]["name"] for f in target] == ["测试化工有限公司"]
    # A click: what lies in the box around it, nearest first; only the user's own leads.
    near = client.get("/map/leads.json?bbox=125.3,43.8,125.34,43.84").json()["features"]
    assert {f["properties"]["id"] for f in near} == {world.leads["a"].pk, world.leads["a2"].pk}
    assert client.get("/map/leads.json?bbox=125.305,43.805,125.315,43.815").json()["features"][0]["id"] == (
        world.leads["a"].pk
    )
    assert client.get("/map/targets.json?bbox=125.31,43.81,125.314,43.814").json()["features"][0]["id"] == (
        world.target.pk
    )
    bad = client.get("/map/leads.json?bbox=1,2,3")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_bbox" and "bbox" in bad.json()["detail"]


@pytest.mark.django_db
def test_unit_page_has_a_minimap_of_the_plans_tiles(world, client):
    _client(client, "planner")
    html = client.get("/map/units/web-city/ZH22010210001/").content.decode()
    config = _json_script(html, "unit-map-config")
    assert config["plan"] == "web-city" and config["code"] == "ZH22010210001"
    assert [round(v, 4) for v in config["bounds"]] == [125.30, 43.80, 125.32, 43.82]
    assert "js/maptiles.js" in html and 'id="unit-map"' in html
    # The card swapped into the one map (htmx) has no map of its own.
    card = client.get("/map/units/web-city/ZH22010210001/", HTTP_HX_REQUEST="true").content.decode()
    assert "unit-map" not in card


@pytest.mark.django_db
def test_map_side_panel_lists_only_the_total_for_a_plan_of_many_districts(world, client, monkeypatch):
    from supervision.zoning import web as zoning_web

    _client(client, "planner")
    html = client.get("/map/?plan=web-city").content.decode()
    assert "南关区" in html and 'id="summary-shortened"' not in html
    monkeypatch.setattr(zoning_web, "MAP_SUMMARY_MAX_DISTRICTS", 1)
    html = client.get("/map/?plan=web-city").content.decode()
    table = html[html.index('id="summary-table"') :]
    assert 'id="summary-shortened"' in html and "南关区" not in table[: table.index("</table>")]
