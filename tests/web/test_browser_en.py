"""Each user's journey in a desktop browser in English (the Chinese ones are in test_browser.py, phones in
test_phone.py): the officer, the inspector, the assessor, the planner and the public.

On every page of a journey: English words are shown, no Chinese interface text is left (whatever
Chinese remains must be data: names, titles, notes stored in the database), and the console shows
no error. Screenshots go to var/screenshots/desktop_en_*.png.
"""

from __future__ import annotations

import re

import pytest

from tests.cases.conftest import PNG
from tests.web.test_security_web import siting_report_path

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CJK = re.compile(r"[\u3400-\u9fff]+")
DATA_APPS = ("zoning", "cases", "field", "assessment", "remote_sensing", "permitting", "eia", "auth")
SITE = {"latitude": 43.8121, "longitude": 125.3121, "accuracy": 9}
# Stored copies of interface labels (a checklist item keeps its dimension's label): translated on the page, not data.
LABELS = {("cases", "checklistitem", "dimension")}


def _data_strings() -> list[str]:
    """Every Chinese text stored in the database (names, titles, notes): data, shown as written."""
    from django.apps import apps
    from django.db import models

    found: set[str] = set()
    for model in apps.get_models():
        if model._meta.app_label not in DATA_APPS or model._meta.proxy:
            continue
        for f in model._meta.concrete_fields:
            key = (model._meta.app_label, model._meta.model_name, f.name)
            if isinstance(f, models.CharField | models.TextField) and not f.choices and key not in LABELS:
                qs = model._default_manager.filter(**{f"{f.attname}__regex": r"[一-龥]"})
                found.update(v.strip() for v in qs.values_list(f.attname, flat=True).distinct()[:2000] if v)
    # Industry names come from the national classification (GB/T 4754), which is published in Chinese only.
    from supervision.zoning.industries import load_industries

    found.update(i.name for i in load_industries().values())
    return sorted(found, key=len, reverse=True)


def _untranslated(page) -> list[str]:
    """The Chinese left on the page once the data is taken out (the language menu names 中文 in Chinese)."""
    text = page.inner_text("body")
    text += " " + " ".join(
        page.locator("[placeholder], [title], [aria-label]").evaluate_all(
            "els => els.filter(e => e.offsetParent !== null)"
            ".map(e => [e.placeholder, e.title, e.getAttribute('aria-label')].filter(Boolean).join(' '))"
        )
    )
    for s in _data_strings():
        for line in s.splitlines():
            if line.strip():
                text = text.replace(line.strip(), " ")
    text = text.replace("中文", " ")
    return sorted(
        {
            m.group(0) + " ← " + text[max(0, m.start() - 30) : m.end() + 10].replace("\n", " ")
            for m in CJK.finditer(text)
        }
    )


class English:
    """The browser fixture switched to English, checking every page it is shown."""

    def __init__(self, browser):
        self.browser = browser
        self.page = browser.page
        self.console_errors: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.problems: list[str] = []

    def login(self, username: str):
        self.browser.login(username)
        self.browser.context.add_cookies([{"name": "django_language", "value": "en", "url": self.browser.base}])

    def check(self, name: str, *words: str):
        """English words shown, no Chinese chrome left, no console error; a screenshot."""
        self.page.wait_for_load_state("networkidle")
        assert self.page.get_attribute("html", "lang") == "en", name
        body = self.page.inner_text("body")
        missing = [w for w in words if w not in body]
        if missing:
            self.problems.append(f"{name}: English not shown: {missing}")
        left = _untranslated(self.page)
        if left:
            self.problems.append(f"{name}: untranslated: {left[:12]}")
        if self.console_errors:
            self.problems.append(f"{name}: console errors: {self.console_errors}")
            self.console_errors.clear()
        self.browser.shot(f"desktop_en_{name}")

    def done(self):
        assert not self.problems, "\n".join(self.problems)


def test_officer_journey_in_english(world, browser):
    from supervision.cases.models import Case

    en = English(browser)
    page = en.page
    en.login("officer_a")
    browser.goto("/desk/")
    page.wait_for_selector("#desk-map[data-loaded=true]")
    en.check("desk", "Lead desk", "Status")
    lead = world.leads["a"]
    page.click(f"#lead-table a[href='/desk/leads/{lead.pk}/']")
    page.wait_for_selector("#lead-map[data-loaded=true]")
    en.check("lead", "Dispatch for verification")
    page.fill("#d-days", "5")
    page.click("#form-dispatch button[type=submit]")
    assert page.get_attribute("#lead-status", "data-status") == "dispatched"
    page.click("#form-start_verification button[type=submit]")
    assert page.get_attribute("#lead-status", "data-status") == "verifying"
    en.check("lead_verifying")
    page.fill("#c-comment", "现场核查属实：未批先建。")
    page.click("#form-confirm button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    en.check("case", "Case")
    page.fill("#o-req", "拆除违法建设，恢复植被。")
    page.select_option("#o-target", str(world.target.pk))
    page.fill("#o-days", "10")
    page.click("#form-order_rectification button[type=submit]")
    assert page.get_attribute("#case-status", "data-status") == "rectification_ordered"
    assert Case.objects.get(lead=lead).status == "rectification_ordered"
    en.check("case_ordered", "Rectification ordered")
    browser.goto("/cases/")
    en.check("cases", "Case")
    en.done()


@pytest.fixture
def inspection(world):
    from supervision.cases.models import Inspection
    from supervision.cases.services import inspections as svc

    plan = svc.inspection_plan_create(
        actor=world.users["admin"],
        name="2025年第三季度双随机抽查",
        zoning_plan=world.plan,
        division=world.divisions["a"],
        period_start="2025-07-01",
        period_end="2025-09-30",
        target_count=1,
        seed=5,
    )
    insp = Inspection.objects.create(
        inspection_plan=plan, target=world.target, division=world.divisions["a"], unit=world.units["a1"], draw_order=1
    )
    insp.inspectors.set([world.users["inspector"]])
    svc.checklist_generate(inspection=insp)
    return insp


def test_inspector_journey_in_english(world, inspection, browser):
    from supervision.field.models import FieldPhoto

    en = English(browser)
    page = en.page
    browser.context.grant_permissions(["geolocation"], origin=browser.base)
    browser.context.set_geolocation(SITE)
    en.login("inspector_w")
    browser.goto("/inspections/")
    en.check("inspections", "Inspections")
    page.click(f"a[href='/inspections/{inspection.pk}/']")
    page.click("#btn-start")
    page.wait_for_selector("#geo[data-located='1']", state="attached")
    en.check("checklist", "Checklist", "Locate me")
    first, second = inspection.items.order_by("position")
    photos = f"#photos-{second.pk}"
    page.set_input_files(
        f"{photos} input[type=file]", files=[{"name": "site.png", "mimeType": "image/png", "buffer": PNG}]
    )
    page.click(f"{photos} button[type=submit]")
    page.wait_for_selector(f"{photos} [data-item-photos] img")
    en.check("checklist_photo", "Photo saved.", "±9 m")
    item = f"#item-{second.pk}"
    page.check(f"{item} input[value=fail]")
    page.fill(f"#note-{second.pk}", "未执行禁止新建化学原料制造项目的要求。")
    page.click(f"{item} button[type=submit]")
    page.wait_for_selector(f"{item} a[href^='/desk/leads/']")
    en.check("checklist_recorded", "Recorded at")
    second.refresh_from_db()
    assert second.lead_id and second.latitude == SITE["latitude"]
    assert FieldPhoto.objects.get(item=second).accuracy_m == SITE["accuracy"]
    page.click(f"{item} a[href^='/desk/leads/']")
    page.wait_for_selector("#lead-status")
    en.check("inspector_lead", "Position on site")
    en.done()


def test_assessor_journey_in_english(world, browser):
    from supervision.assessment.models import AssessmentScheme
    from supervision.assessment.services import DEFAULT_SCHEME, scheme_set_weights

    if not AssessmentScheme.objects.exists():  # the data migration's rows are flushed between transactional tests
        scheme = AssessmentScheme.objects.create(version=1, name="默认考核方案")
        scheme_set_weights(
            scheme=scheme, weights={c: w for c, w, _ in DEFAULT_SCHEME}, params={c: p for c, _, p in DEFAULT_SCHEME}
        )
    en = English(browser)
    page = en.page
    en.login("assessor_w")
    browser.goto("/assessment/?plan=web-city&period=2025-Q3")
    page.click("#btn-compute")
    page.wait_for_selector("#ranking tbody tr")
    page.wait_for_selector("#score-chart[data-rendered=true]")
    en.check("assessment", "Rank")
    page.click("#ranking tbody tr:first-child td:nth-child(2) a")
    page.wait_for_selector("#card-status")
    page.wait_for_selector("#indicator-chart[data-rendered=true]")
    en.check("scorecard", "Draft")
    drill = page.locator("a[href*='/numerator/'], a[href*='/denominator/']").first
    drill.click()
    page.wait_for_load_state()
    en.check("drill")
    en.done()


def test_planner_journey_in_english(world, browser):
    en = English(browser)
    page = en.page
    en.login("planner_w")
    browser.goto("/map/")
    page.wait_for_selector("#map[data-loaded=true]")
    en.check("planner_map", "One map", "City-wide")
    browser.goto(siting_report_path(world))
    en.check("siting_report", "Prohibited")
    en.done()


def test_public_journey_in_english(world, browser, settings):
    settings.PUBLIC_ZONING = True
    en = English(browser)
    page = en.page
    browser.context.add_cookies([{"name": "django_language", "value": "en", "url": browser.base}])
    browser.goto("/public/")
    page.wait_for_selector("#map[data-loaded=true]")
    en.check("public_map", "Plan", "City-wide")
    browser.goto("/public/cases/")
    en.check("public_cases")
    en.done()
