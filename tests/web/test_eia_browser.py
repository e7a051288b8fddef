"""The EIA approval page in a browser: the site picked on the map (static JS, CSP-clean) and saved."""

import pytest

from supervision.cases.services.users import user_upsert
from supervision.permitting.models import EiaApproval
from tests.permitting.conftest import permit_scene
from tests.web.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_site_clicked_on_the_map_is_saved_and_its_conflict_shown(browser):
    permit_scene()
    user_upsert(username="eia-browser", role="bureau_admin", password=PASSWORD)
    browser.login("eia-browser")
    page = browser.page
    browser.goto("/eia/conflicts/")
    page.click("#eia-approval-new")
    page.wait_for_selector("#eia-site-map.leaflet-container")
    page.select_option("#eia-kind", "project")
    page.fill("#eia-project", "精细化工项目")
    page.fill("#eia-industry", "C2614")
    page.fill("#eia-authority", "长春市生态环境局")
    page.fill("#eia-number", "长环审〔2025〕31号")
    page.fill("#eia-date", "2025-03-01")
    # The map opens on the city; click its centre, then move the point onto the unit exactly.
    page.click("#eia-site-map", position={"x": 200, "y": 140})
    assert page.input_value("#eia-lon") and page.input_value("#eia-lat")
    page.click("#eia-draw-polygon")
    for x, y in ((100, 100), (140, 100), (140, 140)):
        page.click("#eia-site-map", position={"x": x, "y": y})
    assert '"Polygon"' in page.input_value("#eia-geom") and page.input_value("#eia-lon") == ""
    page.click("#eia-draw-clear")
    assert page.input_value("#eia-geom") == ""
    page.click("#eia-draw-point")
    page.fill("#eia-lon", "125.305")
    page.fill("#eia-lat", "43.805")
    page.click("#eia-approval-form button[type=submit]")
    page.wait_for_selector("#eia-conformity")
    assert "ZH-1" in page.inner_text("#eia-deciding")
    assert EiaApproval.objects.get().conforms is False
