"""export_plan (GeoPackage and Shapefiles) imports back into an identical plan; the API download."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command

from supervision.zoning.choices import PlanStatus
from supervision.zoning.demo import PLAN_CODE, zoning_demo_load
from supervision.zoning.models import AccessRequirement, ControlUnit, Overlay, ZoningPlan
from supervision.zoning.selectors import zoning_summary

pytestmark = pytest.mark.django_db
pyogrio = pytest.importorskip("pyogrio")


def demo_plan():
    """The demo city in force: 157 units, red line and basin overlays, its access list (loaded while a draft)."""
    plan = zoning_demo_load()
    assert plan.status == PlanStatus.EFFECTIVE and plan.requirements.exists()
    return plan


def snapshot(code: str) -> dict:
    plan = ZoningPlan.objects.get(code=code)
    return {
        "units": sorted(
            ControlUnit.objects.filter(plan=plan).values_list("code", "name", "unit_class", "division__adcode")
        ),
        "overlays": sorted(Overlay.objects.filter(plan=plan).values_list("kind", "code", "name")),
        "summary": zoning_summary(plan=plan),
        "clauses": list(
            AccessRequirement.objects.filter(plan=plan)
            .order_by("position")
            .values_list("level", "scope_code", "dimension", "number", "text", "action", "industry_codes", "applies_to")
        ),
    }


def reimport(path: Path, fmt: str) -> None:
    """Delete the plan and load it back from the export, through the import commands, as a new draft.

    The database refuses to delete the content of a plan in force: the test puts it back to draft
    first (as the fixtures do), then throws it away.
    """
    ZoningPlan.objects.filter(code=PLAN_CODE).update(status=PlanStatus.DRAFT)
    ZoningPlan.objects.filter(code=PLAN_CODE).delete()
    out = io.StringIO()
    if fmt == "gpkg":
        call_command("import_units", str(path), "--plan", PLAN_CODE, "--layer", "units", stdout=out)
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        for kind in ("red_line", "basin", "other"):
            if f"overlay_{kind}" in layers:
                call_command(
                    "import_overlay",
                    str(path),
                    "--plan",
                    PLAN_CODE,
                    "--kind",
                    kind,
                    "--layer",
                    f"overlay_{kind}",
                    stdout=out,
                )
        call_command("import_access_list", str(path), "--plan", PLAN_CODE, stdout=out)
    else:
        call_command("import_units", str(path / "units.shp"), "--plan", PLAN_CODE, stdout=out)
        for kind in ("red_line", "basin", "other"):
            if (path / f"overlay_{kind}.shp").exists():
                call_command(
                    "import_overlay", str(path / f"overlay_{kind}.shp"), "--plan", PLAN_CODE, "--kind", kind, stdout=out
                )
        call_command("import_access_list", str(path / "access_list.csv"), "--plan", PLAN_CODE, stdout=out)


def test_geopackage_round_trip_gives_an_identical_plan(tmp_path):
    demo_plan()
    before = snapshot(PLAN_CODE)
    target = tmp_path / "plan.gpkg"
    out = io.StringIO()
    call_command("export_plan", "--plan", PLAN_CODE, "--format", "gpkg", "-o", str(target), stdout=out)
    assert "157 units" in out.getvalue()
    layers = [str(name) for name, _ in pyogrio.list_layers(target)]
    assert layers[0] == "units" and "overlay_basin" in layers and "access_list" in layers
    info = pyogrio.read_info(target, layer="units")
    assert list(info["fields"][:6]) == ["环境管控单元编码", "环境管控单元名称", "管控单元分类", "省", "市", "县区"]
    assert info["crs"] == "EPSG:4490" and info["features"] == 157
    reimport(target, "gpkg")
    assert ZoningPlan.objects.get(code=PLAN_CODE).status == PlanStatus.DRAFT
    after = snapshot(PLAN_CODE)
    assert after["clauses"] and after == before


def test_shapefile_round_trip_pinyin_fields_gbk_prj(tmp_path):
    demo_plan()
    before = snapshot(PLAN_CODE)
    folder = tmp_path / "shp"
    call_command("export_plan", "--plan", PLAN_CODE, "--format", "shp", "-o", str(folder), stdout=io.StringIO())
    assert (folder / "units.cpg").read_text() == "GBK"
    assert (folder / "units.prj").read_text().startswith('GEOGCS["GCS_China_Geodetic_Coordinate_System_2000"')
    info = pyogrio.read_info(folder / "units.shp")
    assert list(info["fields"][:6]) == ["HJZHGKDYBM", "HJZHGKDYMC", "ZHGKDYFL", "PROV", "CITY", "AREA"]
    # The DBF holds GBK bytes: a unit name is there in GBK, not UTF-8.
    name = ControlUnit.objects.filter(plan__code=PLAN_CODE).order_by("code").first().name
    dbf = (folder / "units.dbf").read_bytes()
    assert name.encode("gbk") in dbf and name.encode("utf-8") not in dbf
    assert (folder / "access_list.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    reimport(folder, "shp")
    assert ZoningPlan.objects.get(code=PLAN_CODE).status == PlanStatus.DRAFT
    after = snapshot(PLAN_CODE)
    assert after["clauses"] and after == before


def test_export_refuses_bad_input(tmp_path):
    zoning_demo_load()
    existing = tmp_path / "x.gpkg"
    existing.write_bytes(b"")
    with pytest.raises(SystemExit):
        call_command("export_plan", "--plan", PLAN_CODE, "--format", "gpkg", "-o", str(existing), stderr=io.StringIO())
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("export_plan", "--plan", "nope", "--format", "gpkg", "-o", str(tmp_path / "y.gpkg"), stderr=err)
    assert "nope" in err.getvalue()
    ZoningPlan.objects.create(code="empty", name="空方案", region_adcode="220100")
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("export_plan", "--plan", "empty", "--format", "shp", "-o", str(tmp_path / "e"), stderr=err)
    assert "no units" in err.getvalue() and not (tmp_path / "e").exists()


def test_api_export_download(auth_client, api_client):
    zoning_demo_load()
    response = auth_client.get(f"/api/v1/zoning/plans/{PLAN_CODE}/export/", {"format": "shp"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"{PLAN_CODE}-shp.zip" in response["Content-Disposition"]
    names = zipfile.ZipFile(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    ).namelist()
    assert (
        f"{PLAN_CODE}/units.shp" in names
        and f"{PLAN_CODE}/units.cpg" in names
        and f"{PLAN_CODE}/access_list.csv" in names
    )
    gpkg = auth_client.get(f"/api/v1/zoning/plans/{PLAN_CODE}/export/", {"format": "gpkg"})
    assert gpkg.status_code == 200 and gpkg["Content-Type"] == "application/geopackage+sqlite3"
    content = b"".join(gpkg.streaming_content) if gpkg.streaming else gpkg.content
    assert content.startswith(b"SQLite format 3")
    bad = auth_client.get(f"/api/v1/zoning/plans/{PLAN_CODE}/export/", {"format": "kml"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_format"
    assert auth_client.get("/api/v1/zoning/plans/nope/export/", {"format": "gpkg"}).status_code == 404


def test_summary_page_links_the_exports(client, user):
    zoning_demo_load()
    client.force_login(user)
    page = client.get("/map/summary/", {"plan": PLAN_CODE}).content.decode()
    assert f"/api/v1/zoning/plans/{PLAN_CODE}/export/?format=gpkg" in page
    assert f"/api/v1/zoning/plans/{PLAN_CODE}/export/?format=shp" in page
