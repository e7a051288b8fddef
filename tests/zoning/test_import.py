"""import_units / import_overlay on real files: GeoJSON, Shapefile (GBK .cpg), GeoPackage, projected CRSs."""

import json
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command

from supervision.zoning.choices import PlanStatus
from supervision.zoning.models import AdministrativeDivision, ControlUnit, Overlay, ZoningPlan

pytestmark = pytest.mark.django_db

OGR2OGR = shutil.which("ogr2ogr")
needs_ogr = pytest.mark.skipif(OGR2OGR is None, reason="ogr2ogr (gdal-bin) is installed by make setup")

X0, Y0, S = 125.30, 43.80, 0.02


def ring(x, y, s=S):
    return [[[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]]


def feature(props, coords, kind="Polygon"):
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coords}}


def chinese(code, name, cls, district="南关区"):
    return {
        "环境管控单元编码": code,
        "环境管控单元名称": name,
        "管控单元分类": cls,
        "省": "吉林省",
        "市": "长春市",
        "县区": district,
    }


def write_geojson(path, features):
    data = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def good_features():
    return [
        feature(chinese("ZH22010210001", "南关区优先保护单元01", "优先保护单元"), ring(X0, Y0)),
        feature(chinese("ZH22010220001", "南关区重点管控单元01", "重点管控单元"), ring(X0 + S, Y0)),
        feature(chinese("ZH22010330001", "宽城区一般管控单元01", "一般管控单元", "宽城区"), ring(X0, Y0 + S)),
    ]


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def ogr(*args):
    subprocess.run([OGR2OGR, *args], check=True, capture_output=True)


def assert_nothing_written():
    assert ControlUnit.objects.count() == 0
    assert ZoningPlan.objects.count() == 0
    assert AdministrativeDivision.objects.count() == 0


def test_import_geojson_with_chinese_fields(tmp_path):
    path = write_geojson(tmp_path / "units.geojson", good_features())
    code, out, err = run("import_units", str(path), "--plan", "cc", "--plan-name", "长春测试")
    assert code == 0, err
    assert "imported 3 units" in out
    plan = ZoningPlan.objects.get(code="cc")
    assert plan.status == "draft"
    assert plan.region_adcode == "220100"  # the city shared by all units
    unit = ControlUnit.objects.get(code="ZH22010210001")
    assert unit.unit_class == "priority" and unit.name == "南关区优先保护单元01"
    assert unit.division.adcode == "220102" and unit.division.name == "南关区"
    assert unit.division.parent.adcode == "220100" and unit.division.parent.name == "长春市"
    assert unit.division.parent.parent.name == "吉林省"
    # 0.02° x 0.02° at 43.8°N: 2.224 km x 1.606 km ≈ 3.57 km² (equal-area, not degrees).
    assert unit.area_m2 == pytest.approx(3.57e6, rel=0.01)
    assert unit.geom.geom_type == "MultiPolygon"


@needs_ogr
def test_import_shapefile_gbk_with_pinyin_fields_and_class_digits(tmp_path):
    features = [
        feature(
            {
                "HJZHGKDYBM": "ZH22010210001",
                "HJZHGKDYMC": "南关区优先保护单元",
                "ZHGKDYFL": "1",
                "PROV": "吉林省",
                "CITY": "长春市",
                "AREA": "南关区",
            },
            ring(X0, Y0),
        ),
        feature(
            {
                "HJZHGKDYBM": "ZH22010220001",
                "HJZHGKDYMC": "南关区重点管控单元",
                "ZHGKDYFL": "2",
                "PROV": "吉林省",
                "CITY": "长春市",
                "AREA": "南关区",
            },
            ring(X0 + S, Y0),
        ),
    ]
    src = write_geojson(tmp_path / "src.geojson", features)
    ogr("-f", "ESRI Shapefile", "-lco", "ENCODING=GBK", str(tmp_path / "shp"), str(src))
    shp = tmp_path / "shp" / "src.shp"
    assert (tmp_path / "shp" / "src.cpg").read_text().strip() == "GBK"
    assert "南关区".encode("gbk") in (tmp_path / "shp" / "src.dbf").read_bytes()
    code, out, err = run("import_units", str(shp), "--plan", "cc")
    assert code == 0, err
    assert "gbk" in out
    assert set(ControlUnit.objects.values_list("name", flat=True)) == {"南关区优先保护单元", "南关区重点管控单元"}
    assert ControlUnit.objects.get(code="ZH22010220001").unit_class == "key"


@needs_ogr
def test_import_geopackage_layer_with_english_fields_from_gauss_kruger(tmp_path):
    features = [
        feature({"code": "ZH22010210001", "name": "unit one", "class": "priority", "district": "南关区"}, ring(X0, Y0)),
        feature(
            {"code": "ZH22010220002", "name": "unit two", "class": "key control", "district": "南关区"},
            ring(X0 + S, Y0),
        ),
    ]
    src = write_geojson(tmp_path / "src.geojson", features)
    gpkg = tmp_path / "units.gpkg"
    # CGCS2000 / 3-degree Gauss-Kruger CM 126E, as provincial deliverables often are.
    ogr("-f", "GPKG", "-t_srs", "EPSG:4551", "-nln", "control_units", str(gpkg), str(src))
    ogr("-f", "GPKG", "-update", "-nln", "other_layer", str(gpkg), str(src))
    code, out, err = run("import_units", str(gpkg), "--plan", "cc", "--layer", "control_units")
    assert code == 0, err
    assert "EPSG:4551" in out
    unit = ControlUnit.objects.get(code="ZH22010210001")
    # Back in CGCS2000 lon/lat, within a centimetre-level tolerance of where it started.
    assert unit.geom.extent == pytest.approx((X0, Y0, X0 + S, Y0 + S), abs=1e-6)
    assert unit.area_m2 == pytest.approx(3.57e6, rel=0.01)


@needs_ogr
def test_import_utm_and_missing_crs_needs_src_srid(tmp_path):
    props = {"HJZHGKDYBM": "ZH22010210001", "HJZHGKDYMC": "u", "ZHGKDYFL": "1"}
    src = write_geojson(tmp_path / "src.geojson", [feature(props, ring(X0, Y0))])
    ogr("-f", "ESRI Shapefile", "-t_srs", "EPSG:32651", str(tmp_path / "utm"), str(src))
    (tmp_path / "utm" / "src.prj").unlink()
    code, out, err = run("import_units", str(tmp_path / "utm" / "src.shp"), "--plan", "cc")
    assert code == 1
    assert "no coordinate reference system" in err and "--src-srid" in err
    assert_nothing_written()
    code, out, err = run("import_units", str(tmp_path / "utm" / "src.shp"), "--plan", "cc", "--src-srid", "32651")
    assert code == 0, err
    assert ControlUnit.objects.get().geom.extent == pytest.approx((X0, Y0, X0 + S, Y0 + S), abs=1e-6)


def refused(tmp_path, features, *expected):
    path = write_geojson(tmp_path / "bad.geojson", features)
    code, out, err = run("import_units", str(path), "--plan", "cc")
    assert code == 1
    for text in expected:
        assert text in err, err
    assert_nothing_written()
    return err


def test_import_refuses_duplicate_codes(tmp_path):
    features = good_features() + [feature(chinese("ZH22010210001", "again", "优先保护单元"), ring(X0 + 2 * S, Y0))]
    err = refused(tmp_path, features, "feature 4 (ZH22010210001)", "duplicate unit code", "nothing was written")
    assert len([line for line in err.splitlines() if line.startswith("feature")]) == 1


def test_import_refuses_malformed_codes(tmp_path):
    features = good_features() + [feature(chinese("ZH2201021001", "short", "优先保护单元"), ring(X0 + 2 * S, Y0))]
    refused(tmp_path, features, "feature 4 (ZH2201021001), field 环境管控单元编码: malformed unit code")


def test_import_refuses_class_contradicting_code(tmp_path):
    features = good_features() + [feature(chinese("ZH22010210002", "x", "重点管控单元"), ring(X0 + 2 * S, Y0))]
    refused(tmp_path, features, "feature 4 (ZH22010210002), field 管控单元分类", "contradicts the code's class digit 1")


def test_import_refuses_unknown_class_text(tmp_path):
    features = good_features() + [feature(chinese("ZH22010210002", "x", "特别管控单元"), ring(X0 + 2 * S, Y0))]
    refused(tmp_path, features, "unknown unit class '特别管控单元'")


def test_import_refuses_empty_geometry(tmp_path):
    features = good_features() + [feature(chinese("ZH22010210002", "x", "优先保护单元"), [])]
    refused(tmp_path, features, "feature 4 (ZH22010210002), geometry: empty geometry")


def test_import_refuses_invalid_geometry_whose_repair_changes_area(tmp_path):
    x, y, s = X0 + 2 * S, Y0, S
    bowtie = [[[x, y], [x + s, y + s], [x + s, y], [x, y + s], [x, y]]]
    features = good_features() + [feature(chinese("ZH22010210002", "x", "优先保护单元"), bowtie)]
    refused(tmp_path, features, "feature 4 (ZH22010210002), geometry: invalid", "repair would change its area")


def test_import_repairs_invalid_geometry_within_tolerance(tmp_path):
    x, y, s = X0 + 2 * S, Y0, S
    e = s * 0.001  # a tiny self-intersecting loop at a corner: area change ~5e-7
    loop = [
        [[x, y], [x + s, y], [x + s, y + s], [x + e, y + s], [x, y + s - e], [x + e, y + s - e], [x, y + s], [x, y]]
    ]
    path = write_geojson(
        tmp_path / "u.geojson", good_features() + [feature(chinese("ZH22010210002", "x", "优先保护单元"), loop)]
    )
    code, out, err = run("import_units", str(path), "--plan", "cc")
    assert code == 0, err
    assert "repaired invalid geometry" in out and "1 repaired" in out
    assert ControlUnit.objects.get(code="ZH22010210002").geom.valid


def test_import_reports_every_problem_at_once(tmp_path):
    features = good_features() + [
        feature(chinese("ZH22010210001", "dup", "优先保护单元"), ring(X0 + 2 * S, Y0)),
        feature(chinese("BAD", "bad", "优先保护单元"), ring(X0 + 3 * S, Y0)),
        feature(chinese("ZH22010210009", "x", "奇怪"), ring(X0 + 4 * S, Y0)),
    ]
    err = refused(tmp_path, features, "duplicate", "malformed", "unknown unit class")
    assert len([line for line in err.splitlines() if line.startswith("feature")]) == 3


def test_import_refuses_codes_already_in_plan_and_non_draft_plans(tmp_path):
    path = write_geojson(tmp_path / "units.geojson", good_features())
    assert run("import_units", str(path), "--plan", "cc")[0] == 0
    code, out, err = run("import_units", str(path), "--plan", "cc")
    assert code == 1 and "already exists in plan cc" in err
    assert ControlUnit.objects.count() == 3
    ZoningPlan.objects.filter(code="cc").update(status="effective")
    other = write_geojson(
        tmp_path / "more.geojson", [feature(chinese("ZH22010210007", "x", "1"), ring(X0 + 5 * S, Y0))]
    )
    code, out, err = run("import_units", str(other), "--plan", "cc")
    assert code == 1 and err.strip().splitlines() == [
        f"Plan cc is {PlanStatus.EFFECTIVE.label}: its units, overlays and access list cannot change; "
        "revise it into a new draft (plan_revise)."
    ]
    assert ControlUnit.objects.count() == 3


def test_import_overlay(tmp_path):
    path = write_geojson(tmp_path / "units.geojson", good_features())
    assert run("import_units", str(path), "--plan", "cc")[0] == 0
    red = write_geojson(
        tmp_path / "red.geojson", [feature({"编码": "HX-1", "名称": "大黑山红线"}, ring(X0 + 0.005, Y0 + 0.005, 0.005))]
    )
    code, out, err = run("import_overlay", str(red), "--plan", "cc", "--kind", "red_line")
    assert code == 0, err
    overlay = Overlay.objects.get(code="HX-1")
    assert overlay.kind == "red_line" and overlay.name == "大黑山红线" and overlay.area_m2 > 0
    dup = write_geojson(
        tmp_path / "dup.geojson",
        [feature({"code": "B1", "name": "a"}, ring(X0, Y0)), feature({"code": "B1", "name": "b"}, ring(X0, Y0))],
    )
    code, out, err = run("import_overlay", str(dup), "--plan", "cc", "--kind", "basin")
    assert code == 1 and "duplicate code 'B1'" in err
    assert Overlay.objects.count() == 1


def test_import_missing_file_is_one_line_and_exit_1(tmp_path):
    code, out, err = run("import_units", str(tmp_path / "nope.gpkg"), "--plan", "cc")
    assert code == 1 and "no such file" in err
