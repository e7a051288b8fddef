"""Web tests: data built with the factories and the other apps' services, and a headless Chromium.

Browser tests drive Debian's Chromium through Playwright's sync API (never `playwright
install`). Every request a page makes is routed: one to any host but the live server
fails the test, so the app must serve every asset itself (intranets have no CDN).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-web-123456"


@dataclass
class World:
    """A small city: two districts with two units each, a red line, an access list, users and leads."""

    plan: object
    divisions: dict
    units: dict
    users: dict
    leads: dict = field(default_factory=dict)
    target: object = None


def _user(username: str, role: str, adcode: str | None = None):
    from supervision.cases.services.users import user_upsert

    user, _ = user_upsert(username=username, role=role, division_adcode=adcode, password=PASSWORD)
    return user


@pytest.fixture
def world(db, settings, tmp_path) -> World:
    from django.contrib.gis.geos import Point

    from supervision.cases.choices import LeadSource
    from supervision.cases.models import EnforcementTarget
    from supervision.cases.services.leads import lead_raise
    from supervision.cases.validators import credit_code_check_char
    from supervision.zoning.choices import AccessAction, AccessLevel, Dimension, OverlayKind, PlanStatus
    from supervision.zoning.models import AccessRequirement
    from tests.factories import (
        DivisionFactory,
        OverlayFactory,
        PlanFactory,
        UnitFactory,
        plan_content_editable,
        square,
    )

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHANGE_LAYER_DIR = str(tmp_path / "layers")
    # A plan in force; the database refuses content written into it, so its content is written
    # while it is a draft (the unit and overlay factories do so themselves).
    plan = PlanFactory(code="web-city", name="测试市分区管控方案", status=PlanStatus.EFFECTIVE)
    nanguan = DivisionFactory(adcode="220102", name="南关区")
    kuancheng = DivisionFactory(adcode="220103", name="宽城区")
    units = {
        "a1": UnitFactory(
            plan=plan,
            division=nanguan,
            code="ZH22010210001",
            name="南关区优先保护单元01",
            unit_class="priority",
            geom=square(125.30, 43.80, 0.02),
        ),
        "a2": UnitFactory(
            plan=plan,
            division=nanguan,
            code="ZH22010220001",
            name="南关区重点管控单元01",
            unit_class="key",
            geom=square(125.32, 43.80, 0.02),
        ),
        "b1": UnitFactory(
            plan=plan,
            division=kuancheng,
            code="ZH22010310001",
            name="宽城区优先保护单元01",
            unit_class="priority",
            geom=square(125.30, 43.82, 0.02),
        ),
        "b2": UnitFactory(
            plan=plan,
            division=kuancheng,
            code="ZH22010330001",
            name="宽城区一般管控单元01",
            unit_class="general",
            geom=square(125.32, 43.82, 0.02),
        ),
    }
    OverlayFactory(
        plan=plan, kind=OverlayKind.RED_LINE, code="HX-0001", name="测试红线", geom=square(125.302, 43.802, 0.004)
    )
    with plan_content_editable(plan):
        AccessRequirement.objects.create(
            plan=plan,
            level=AccessLevel.PLAN,
            scope_code=plan.code,
            dimension=Dimension.POLLUTANT_DISCHARGE,
            number="CITY-1",
            text="全市新建项目执行污染物排放总量控制。",
            action=AccessAction.REQUIRE,
            position=1,
        )
        AccessRequirement.objects.create(
            plan=plan,
            level=AccessLevel.UNIT,
            scope_code="ZH22010210001",
            dimension=Dimension.SPATIAL_LAYOUT,
            number="ZH22010210001-1",
            text="禁止新建化学原料和化学制品制造项目。",
            action=AccessAction.PROHIBIT,
            industry_codes=["C26"],
            position=2,
        )
    users = {
        "officer_a": _user("officer_a", "enforcement_officer", "220102"),
        "officer_b": _user("officer_b", "enforcement_officer", "220103"),
        "inspector": _user("inspector_w", "inspector"),
        "assessor": _user("assessor_w", "assessor"),
        "planner": _user("planner_w", "planner"),
        "admin": _user("admin_w", "bureau_admin"),
    }
    world = World(plan=plan, divisions={"a": nanguan, "b": kuancheng}, units=units, users=users)
    first17 = "91220102MA0000001"
    world.target = EnforcementTarget.objects.create(
        name="测试化工有限公司",
        credit_code=first17 + credit_code_check_char(first17),
        industry_code="C2614",
        location=Point(125.312, 43.812, srid=4326).transform(settings.STORAGE_SRID, clone=True),
        division=nanguan,
        unit=units["a1"],
    )
    for key, unit, (lon, lat) in (
        ("a", units["a1"], (125.31, 43.81)),
        ("a2", units["a2"], (125.33, 43.81)),
        ("b", units["b1"], (125.31, 43.83)),
    ):
        world.leads[key] = lead_raise(
            source=LeadSource.COMPLAINT,
            source_key=f"web-test:{key}",
            plan=plan,
            geom=Point(lon, lat, srid=4326).transform(settings.STORAGE_SRID, clone=True),
            title=f"群众举报：{unit.name}疑似违法建设",
            reason="12369 举报",
            unit=unit,
        ).lead
    return world


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Browser:
    """One browser context against the live server, with the external-request guard."""

    def __init__(self, chromium, live_server):
        self.base = live_server.url
        self.host = urlsplit(self.base).netloc
        self.external: list[str] = []
        self.context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        self.context.set_default_timeout(15_000)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        # Content-Security-Policy violations reported in the console (an inline script or handler the
        # policy blocked) fail the test, as do script errors on the page.
        self.csp_violations: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.csp_violations.append(f"page error: {err}"))

    def _console(self, msg):
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.csp_violations.append(msg.text)

    def _route(self, route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob") or parts.netloc == self.host:
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def goto(self, path: str):
        return self.page.goto(self.base + path)

    def login(self, username: str):
        self.context.clear_cookies()
        self.goto("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def shot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


@pytest.fixture
def browser(chromium, live_server):
    b = Browser(chromium, live_server)
    yield b
    b.context.close()
    assert not b.external, f"pages requested external URLs: {b.external}"
    assert not b.csp_violations, f"the pages broke the Content-Security-Policy: {b.csp_violations}"
