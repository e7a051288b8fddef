"""The plan's life: revise, replace, diff, file, publish; immutability in the database; never looser."""

import datetime
import json

import pytest
from django.core.management import CommandError
from django.db import DatabaseError, transaction
from django.utils import translation
from openpyxl import load_workbook

from supervision.errors import ImportRefused, ServiceError
from supervision.zoning.choices import PlanStatus
from supervision.zoning.models import AccessRequirement, ControlUnit, Overlay, PlanEvent, ZoningPlan
from supervision.zoning.services import access_list_import, plan_file, plan_publish, plan_revise
from tests.factories import square
from tests.zoning.access_plan import U_G, U_K, U_P, build_plan, row, write_csv
from tests.zoning.test_import import chinese, feature, ring, run, write_geojson

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Messages asserted in English whatever the compiled catalogues hold."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


D = datetime.date


@pytest.fixture
def effective(tmp_path):
    """cc-test in force with a two-clause access list."""
    plan = build_plan()
    access_list_import(
        path=write_csv(
            tmp_path / "list.csv",
            [row("区县", "220102", "NG-01", "禁止", "C26"), row("单元", U_K, "UK-01", "限制", "C25")],
        ),
        plan_code=plan.code,
    )
    plan = plan_file(plan=plan, authority="吉林省生态环境厅", number="吉环备〔2024〕1号", date=D(2024, 12, 1))
    return plan_publish(plan=plan, effective_date=D(2024, 12, 31))


def revised_units(tmp_path):
    """U_P kept, U_K reclassified as general (new code, same place), U_G reshaped, one unit added."""
    x, y, s = 125.30, 43.80, 0.01
    return write_geojson(
        tmp_path / "v2.geojson",
        [
            feature(chinese(U_P, "南关区优先保护单元", "优先保护单元"), ring(x, y, s)),
            feature(chinese("ZH22010230001", "南关区一般管控单元", "一般管控单元"), ring(x + s, y, s)),
            feature(
                chinese(U_G, "宽城区一般管控单元", "一般管控单元", "宽城区"),
                [[[x + 2 * s, y], [x + 3 * s, y], [x + 3 * s, y + 1.5 * s], [x + 2 * s, y + 1.5 * s], [x + 2 * s, y]]],
            ),
            feature(chinese("ZH22010210002", "南关区优先保护单元02", "优先保护单元"), ring(x, y + 0.05, s)),
        ],
    )


# --- versions ----------------------------------------------------------------------------


def test_revise_copies_everything_into_a_draft(effective):
    code, out, err = run("plan_revise", "--from", "cc-test", "--to", "cc-test-2", "--name", "修订稿")
    assert code == 0, err
    assert out.strip() == "draft cc-test-2 revised from cc-test: 3 units, 3 overlays, 2 clauses"
    draft = ZoningPlan.objects.get(code="cc-test-2")
    assert (draft.status, draft.name, draft.revised_from, draft.region_adcode) == (
        "draft",
        "修订稿",
        effective,
        "220100",
    )
    assert sorted(draft.units.values_list("code", "area_m2")) == sorted(effective.units.values_list("code", "area_m2"))
    assert draft.updates.get().what == "Draft revised from cc-test."
    assert ZoningPlan.objects.get(code="cc-test").units.count() == 3  # the source untouched
    code, out, err = run("plan_revise", "--from", "cc-test", "--to", "cc-test-2")
    assert code == 1 and err.strip() == "A plan with code cc-test-2 already exists; choose a new code for the revision."


def test_revise_copies_scan_rules(effective):
    from supervision.remote_sensing.models import ScanRuleSet

    ScanRuleSet.objects.create(plan=effective, min_area_m2=1234)
    draft = plan_revise(from_code="cc-test", to_code="cc-test-2")
    assert ScanRuleSet.objects.get(plan=draft).min_area_m2 == 1234


def test_imports_into_a_filed_or_effective_plan_exit_1_and_write_nothing(effective, tmp_path):
    units = write_geojson(tmp_path / "u.geojson", [feature(chinese(U_P, "x", "优先保护单元"), ring(125.3, 43.8))])
    before = (ControlUnit.objects.count(), Overlay.objects.count(), AccessRequirement.objects.count())
    line = (
        f"Plan cc-test is {PlanStatus.EFFECTIVE.label}: its units, overlays and access list cannot change; "
        "revise it into a new draft (plan_revise)."
    )
    for args in (
        ("import_units", str(units), "--plan", "cc-test", "--replace"),
        ("import_units", str(units), "--plan", "cc-test"),
        ("import_overlay", str(units), "--plan", "cc-test", "--kind", "red_line", "--replace"),
        ("import_access_list", write_csv(tmp_path / "a.csv", [row("单元", U_G, "X-1")]), "--plan", "cc-test"),
    ):
        code, out, err = run(*args)
        assert (code, err.strip().splitlines()) == (1, [line]), args
    assert (ControlUnit.objects.count(), Overlay.objects.count(), AccessRequirement.objects.count()) == before


@pytest.mark.parametrize("status", ["filed", "effective", "superseded"])
def test_database_refuses_content_changes_of_a_plan_not_draft(status):
    plan = build_plan()
    AccessRequirement.objects.create(
        plan=plan, level="unit", scope_code=U_P, dimension="spatial_layout", number="A", text="t", action="prohibit"
    )
    ZoningPlan.objects.filter(pk=plan.pk).update(status=status)
    unit = ControlUnit.objects.get(code=U_P)
    writes = [
        lambda: ControlUnit.objects.filter(pk=unit.pk).update(name="改"),
        lambda: ControlUnit.objects.filter(pk=unit.pk).delete(),
        lambda: ControlUnit.objects.create(
            plan=plan, division=unit.division, code="ZH22010210099", name="n", unit_class="priority", geom=unit.geom
        ),
        lambda: Overlay.objects.filter(plan=plan).update(name="改"),
        lambda: Overlay.objects.create(plan=plan, kind="red_line", code="N", name="n", geom=unit.geom),
        lambda: AccessRequirement.objects.filter(plan=plan).update(text="改"),
        lambda: AccessRequirement.objects.filter(plan=plan).delete(),
    ]
    for write in writes:
        with pytest.raises(DatabaseError, match=f"plan cc-test is {status}: its content cannot change"):
            with transaction.atomic():
                write()
    # Moving a unit from a draft into a locked plan is refused too.
    draft = ZoningPlan.objects.create(code="d", name="d", region_adcode="220100")
    with pytest.raises(DatabaseError), transaction.atomic():
        ControlUnit.objects.create(
            plan=draft, division=unit.division, code="Z", name="n", unit_class="priority", geom=unit.geom
        )
        ControlUnit.objects.filter(plan=draft).update(plan=plan)
    assert ControlUnit.objects.get(pk=unit.pk).name == unit.name


def test_a_draft_is_edited_by_replacing_units_and_overlays(effective, tmp_path):
    plan_revise(from_code="cc-test", to_code="cc-test-2")
    code, out, err = run("import_units", str(revised_units(tmp_path)), "--plan", "cc-test-2", "--replace")
    assert code == 0, err
    assert "replaced the units with 4 units" in out
    assert sorted(ControlUnit.objects.filter(plan__code="cc-test-2").values_list("code", flat=True)) == sorted(
        [U_P, "ZH22010230001", U_G, "ZH22010210002"]
    )
    red = write_geojson(
        tmp_path / "red.geojson",
        [feature({"编码": "HX-0009", "名称": "新红线"}, ring(125.301, 43.801, 0.002))],
    )
    code, out, err = run("import_overlay", str(red), "--plan", "cc-test-2", "--kind", "red_line", "--replace")
    assert code == 0, err
    overlays = Overlay.objects.filter(plan__code="cc-test-2")
    assert sorted(overlays.values_list("kind", "code")) == [
        ("basin", "LY-LH"),
        ("basin", "LY-SHJ"),
        ("red_line", "HX-0009"),
    ]


# --- diff --------------------------------------------------------------------------------


def test_diff_matches_by_code_then_by_place(effective, tmp_path):
    plan_revise(from_code="cc-test", to_code="cc-test-2")
    assert run("import_units", str(revised_units(tmp_path)), "--plan", "cc-test-2", "--replace")[0] == 0
    access_list_import(
        path=write_csv(
            tmp_path / "v2.csv",
            [
                row("区县", "220102", "NG-01", "禁止", "C26;C25"),
                row("单元", "ZH22010230001", "UG-02", "要求", ""),
            ],
        ),
        plan_code="cc-test-2",
        replace_all=True,
    )
    code, out, err = run("plan_diff", "cc-test", "cc-test-2", "--format", "json")
    assert code == 0, err
    diff = json.loads(out)
    reshaped = diff["units"].pop("reshaped")
    assert diff == {
        "units": {
            "unchanged": 1,
            "added": ["ZH22010210002"],
            "removed": [],
            "reclassified": [{"from": U_K, "to": "ZH22010230001"}],
        },
        "clauses": {"added": ["UG-02"], "removed": ["UK-01"], "changed": ["NG-01"]},
    }
    (only,) = reshaped
    assert only["code"] == U_G and only["area_m2_after"] == pytest.approx(1.5 * only["area_m2_before"], rel=0.01)

    code, out, err = run("plan_diff", "cc-test", "cc-test-2", "--format", "table")
    assert "reclassified  ZH22010220001  ZH22010230001" in out
    target = tmp_path / "diff.xlsx"
    assert run("plan_diff", "cc-test", "cc-test-2", "-o", str(target))[0] == 0
    sheet = load_workbook(target)["单元"]
    assert ["reclassified", U_K, "ZH22010230001"] in [[c.value for c in r][:3] for r in sheet.iter_rows()]


def test_diff_does_not_pair_units_overlapping_less_than_90_percent(effective, tmp_path):
    plan_revise(from_code="cc-test", to_code="cc-test-2")
    x, y, s = 125.30, 43.80, 0.01
    path = write_geojson(
        tmp_path / "shift.geojson",
        [
            feature(chinese(U_P, "a", "优先保护单元"), ring(x, y, s)),
            feature(chinese(U_G, "c", "一般管控单元", "宽城区"), ring(x + 2 * s, y, s)),
            # U_K's place shifted by 15 %: overlap/union = 0.85/1.15 < 0.9
            feature(chinese("ZH22010230001", "b", "一般管控单元"), ring(x + 1.15 * s, y, s)),
        ],
    )
    assert run("import_units", str(path), "--plan", "cc-test-2", "--replace")[0] == 0
    diff = json.loads(run("plan_diff", "cc-test", "cc-test-2", "--format", "json")[1])
    assert diff["units"]["reclassified"] == []
    assert (diff["units"]["added"], diff["units"]["removed"]) == (["ZH22010230001"], [U_K])


# --- filing and publication ---------------------------------------------------------------


def test_file_and_publish_supersede_the_previous_version(effective, tmp_path):
    plan_revise(from_code="cc-test", to_code="cc-test-2")
    receipt = tmp_path / "备案回执.pdf"
    receipt.write_bytes(b"%PDF-1.4 receipt")
    code, out, err = run(
        "plan_file",
        "cc-test-2",
        "--authority",
        "吉林省生态环境厅",
        "--number",
        "吉环备〔2029〕7号",
        "--date",
        "2029-06-01",
        "--approved-by",
        "长春市人民政府",
        "--attachment",
        str(receipt),
    )
    assert code == 0, err
    draft = ZoningPlan.objects.get(code="cc-test-2")
    assert (draft.status, draft.filed_with, draft.document_number, draft.filed_date, draft.approved_by) == (
        "filed",
        "吉林省生态环境厅",
        "吉环备〔2029〕7号",
        D(2029, 6, 1),
        "长春市人民政府",
    )
    assert draft.attachments.get().file.read() == b"%PDF-1.4 receipt"
    code, out, err = run("plan_publish", "cc-test-2", "--effective-date", "2029-07-01")
    assert code == 0, err
    assert out.strip() == "plan cc-test-2 effective from 2029-07-01 (revision due 2034-07-01); superseded: cc-test"
    effective.refresh_from_db()
    assert effective.status == "superseded"
    assert list(PlanEvent.objects.filter(plan=effective).values_list("to_status", flat=True)) == [
        "filed",
        "effective",
        "superseded",
    ]
    # Publishing twice is a stale repeat (a conflict saying who did it first); filing what is not a
    # draft breaks the rule. Each is refused with one line.
    code, out, err = run("plan_publish", "cc-test-2", "--effective-date", "2029-07-01")
    assert (
        code == 1
        and "Plan cc-test-2 was changed while you were acting on it: the system set it to Effective" in err
        and err.count("\n") == 1
    )
    code, out, err = run("plan_file", "cc-test", "--authority", "a", "--number", "n", "--date", "2029-01-01")
    assert code == 1 and f"cannot go from {PlanStatus.SUPERSEDED.label} to {PlanStatus.FILED.label}" in err


def test_filing_needs_authority_number_and_date():
    plan = build_plan()
    with pytest.raises(ServiceError) as exc:
        plan_file(plan=plan, authority=" ", number="", date=None)
    assert len(exc.value.problems) == 3 and ZoningPlan.objects.get(pk=plan.pk).status == "draft"
    with pytest.raises(CommandError, match="--date: invalid fromisoformat value"):
        run("plan_file", "cc-test", "--authority", "a", "--number", "n", "--date", "2029-13-01")
    assert ZoningPlan.objects.get(pk=plan.pk).status == "draft"


def test_revision_due_notifies_planners_once(effective, django_user_model, mailoutbox):
    from django.contrib.auth.models import Group

    from supervision.zoning.tasks import plan_revisions_due

    planner = django_user_model.objects.create_user("p", email="p@example.org", password="x")
    planner.groups.add(Group.objects.get_or_create(name="planner")[0])
    assert effective.revision_due == D(2029, 12, 31)
    assert plan_revisions_due.delay().get() == []  # not due yet (today < 2029-12-31)
    ZoningPlan.objects.filter(pk=effective.pk).update(revision_due=D(2020, 1, 1))
    assert plan_revisions_due.delay().get() == ["cc-test"]
    assert plan_revisions_due.delay().get() == []
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["p@example.org"] and "cc-test" in mailoutbox[0].subject


# --- never looser, across layers and plans ---------------------------------------------------


def refused(path, plan_code="cc-test", **kwargs) -> list[str]:
    with pytest.raises(ImportRefused) as exc:
        access_list_import(path=path, plan_code=plan_code, **kwargs)
    return exc.value.problems


@pytest.mark.parametrize(
    "higher, lower, refused_",
    [
        (row("区县", "220102", "H", "禁止", "C26"), row("单元", U_K, "L", "限制", "C26"), True),
        (row("区县", "220102", "H", "禁止", "C26"), row("单元", U_K, "L", "限制", "C2614"), True),
        # restricting a wider group adds to the prohibition
        (row("区县", "220102", "H", "禁止", "C2614"), row("单元", U_K, "L", "限制", "C26"), False),
        (row("区县", "220102", "H", "限制", "C26"), row("单元", U_K, "L", "允许", "C26"), True),
        (row("总体", "cc-test", "H", "限制", "C2614"), row("单元", U_K, "L", "允许", "C26"), True),
        (row("区县", "220102", "H", "限制", "C26"), row("单元", U_K, "L", "禁止", "C26"), False),
        (row("区县", "220102", "H", "限制", "C26"), row("单元", U_K, "L", "限制", "C26"), False),
        # another dimension is another rule
        (
            row("区县", "220102", "H", "禁止", "C26", dimension="环境风险防控"),
            row("单元", U_K, "L", "允许", "C26"),
            False,
        ),
        # a prefecture is a list layer above its counties ("1+3+13+N")
        (row("区县", "220100", "H", "禁止", "C26"), row("区县", "220103", "L", "允许", "C26"), True),
        (row("区县", "220100", "H", "禁止", "C26"), row("单元", U_G, "L", "限制", "C26"), True),
        (row("区县", "220103", "H", "禁止", "C26"), row("区县", "220100", "L", "允许", "C26"), False),
        # a county restriction wider than a red line adds to the red line's prohibition
        (row("区域", "HX-0001", "H", "禁止", ""), row("区县", "220102", "L", "限制", "A03"), False),
        (row("区域", "HX-0001", "H", "禁止", ""), row("单元", U_P, "L", "限制", "A03"), True),
    ],
)
def test_never_looser_across_layers(tmp_path, higher, lower, refused_):
    build_plan()
    path = write_csv(tmp_path / "pair.csv", [higher, lower])
    if refused_:
        (problem,) = refused(path)
        assert problem.startswith("row 3: never looser") and "clause L" in problem and "clause H" in problem
    else:
        assert access_list_import(path=path, plan_code="cc-test").created == 2


def test_never_looser_against_the_parent_plan(tmp_path):
    province = ZoningPlan.objects.create(code="jl-2024", name="吉林省方案", region_adcode="220000")
    ControlUnit.objects.create(
        plan=province,
        division=build_plan().units.first().division,
        code="ZH22010210777",
        name="省级单元",
        unit_class="priority",
        geom=square(125.30, 43.80, 0.015),
    )
    access_list_import(
        path=write_csv(tmp_path / "p.csv", [row("单元", "ZH22010210777", "P-1", "禁止", "C26", text="省禁止化工")]),
        plan_code="jl-2024",
    )
    city = ZoningPlan.objects.get(code="cc-test")
    city.parent = province
    city.save(update_fields=["parent"])
    # U_K (125.31–125.32) meets the provincial unit (125.30–125.315); U_G does not.
    (problem,) = refused(write_csv(tmp_path / "c.csv", [row("单元", U_K, "C-1", "允许", "C2614", text="市允许")]))
    assert problem.startswith("row 2: never looser") and "「市允许」" in problem and "「省禁止化工」" in problem
    assert "(parent plan jl-2024)" in problem
    assert (
        access_list_import(
            path=write_csv(tmp_path / "ok.csv", [row("单元", U_G, "C-2", "允许", "C2614")]), plan_code="cc-test"
        ).created
        == 1
    )
    # Filing re-checks against the parent: a clause slipped in by hand is caught there.
    AccessRequirement.objects.create(
        plan=city,
        level="plan",
        scope_code="cc-test",
        dimension="spatial_layout",
        number="C-3",
        text="全市允许",
        action="allow",
        industry_codes=["C26"],
    )
    with pytest.raises(ServiceError) as exc:
        plan_file(plan=city, authority="a", number="n", date=D(2025, 1, 1))
    assert exc.value.code == "never_looser" and "「全市允许」" in exc.value.problems[0]
    assert ZoningPlan.objects.get(pk=city.pk).status == "draft"


def test_a_county_list_refers_to_the_city_plan_and_is_filed_on_its_own_path(effective, tmp_path):
    """A county's list is a plan of its own (region = county, parent = the city plan), filed and published alone."""
    county = ZoningPlan.objects.create(code="nanguan-2025", name="南关区准入清单", region_adcode="220102")
    code, out, err = run("plan_revise", "--from", "nanguan-2025", "--to", "nanguan-2026", "--parent", "cc-test")
    assert code == 0, err
    draft = ZoningPlan.objects.get(code="nanguan-2026")
    assert draft.parent == effective and draft.revised_from == county
    code, out, err = run("plan_revise", "--from", "cc-test", "--to", "cc-x", "--parent", "cc-test")
    assert code == 1 and err.strip() == "Plan cc-x cannot be its own parent."
    plan_publish(
        plan=plan_file(plan=draft, authority="长春市生态环境局", number="长环备〔2026〕1号", date=D(2026, 1, 5)),
        effective_date=D(2026, 2, 1),
    )
    effective.refresh_from_db()
    assert effective.status == "effective"  # the city's version is not superseded by a county's
