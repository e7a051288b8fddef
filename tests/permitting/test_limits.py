"""import_permit_limits: whole-file refusals naming row and column; new/renewed permits checked."""

import pytest
from django.core.management import call_command

from supervision.errors import ImportRefused
from supervision.permitting.models import PermitFinding, PermitLimit
from supervision.permitting.services.limits import permit_limits_import

from .conftest import limits_csv


def _rows(s):
    return [
        f"{s.chem.credit_code},DA001,CEMS0001,a21026,50,mg/m3,,2026-01-01,2030-12-31",
        f"{s.chem.credit_code},DA001,CEMS0001,a21002,100,mg/m3,80,2026-01-01,2030-12-31",
        f"{s.brewery.credit_code},DW001,CEMS0002,w01018,60,mg/L,,,",
    ]


def test_import_writes_limits_and_records_a_finding_for_a_prohibited_industry(tmp_path, pscene):
    report = permit_limits_import(path=limits_csv(tmp_path, _rows(pscene)))
    assert (report.created, report.updated) == (3, 0)
    so2 = PermitLimit.objects.get(device_mn="CEMS0001", pollutant_code="a21026")
    assert (so2.target, so2.outlet_code, so2.hourly_limit, so2.unit) == (pscene.chem, "DA001", 50.0, "mg/m3")
    assert PermitLimit.objects.get(pollutant_code="a21002").daily_limit == 80.0
    finding = PermitFinding.objects.get()
    assert (finding.target, finding.verdict, finding.reason) == (pscene.chem, "prohibited", "new")
    assert [c["number"] for c in finding.result["deciding"]] == ["ZH-1"]
    assert sorted(report.checked) == sorted([pscene.chem.credit_code, pscene.brewery.credit_code])


def test_reimport_changes_nothing_and_renewal_is_checked_again(tmp_path, pscene):
    path = limits_csv(tmp_path, _rows(pscene))
    permit_limits_import(path=path)
    again = permit_limits_import(path=path)
    assert (again.created, again.updated, again.checked) == (0, 3, [])
    assert PermitFinding.objects.count() == 1
    renewed = [r.replace("2030-12-31", "2035-12-31") for r in _rows(pscene)]
    report = permit_limits_import(path=limits_csv(tmp_path, renewed, "renewed.csv"))
    assert report.checked == [pscene.chem.credit_code]
    assert PermitFinding.objects.filter(reason="renewed").count() == 1
    assert PermitLimit.objects.get(pollutant_code="a21026").valid_to.year == 2035


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{chem},DA001,CEMS0001,a21026,-5,mg/m3,,,", "Row 2, column 小时均值限值"),
        ("{chem},DA001,CEMS0001,SO2,50,mg/m3,,,", "Row 2, column 污染物代码"),
        ("{chem},DA001,CEMS 01,a21026,50,mg/m3,,,", "Row 2, column 监测设备编码"),
        ("91220102MA00000990,DA001,CEMS0001,a21026,50,mg/m3,,,", "Row 2, column 统一社会信用代码"),
        ("{chem},DA001,CEMS0001,a21026,50,,,,", "Row 2, column 单位"),
        ("{chem},DA001,CEMS0001,a21026,50,mg/m3,,2026-13-01,", "Row 2, column 有效期起"),
        ("{chem},DA001,CEMS0001,a21026,50,mg/m3,,2026-05-01,2026-01-01", "Row 2, column 有效期止"),
    ],
)
def test_import_refuses_the_whole_file(tmp_path, pscene, row, message):
    good = f"{pscene.brewery.credit_code},DW001,CEMS0002,w01018,60,mg/L,,,"
    path = limits_csv(tmp_path, [row.format(chem=pscene.chem.credit_code), good])
    with pytest.raises(ImportRefused) as info:
        permit_limits_import(path=path)
    assert any(p.startswith(message) for p in info.value.problems), info.value.problems
    assert not PermitLimit.objects.exists()


def test_import_refuses_repeats_a_device_of_another_target_and_missing_columns(tmp_path, pscene):
    rows = _rows(pscene)
    with pytest.raises(ImportRefused) as info:
        permit_limits_import(path=limits_csv(tmp_path, [*rows, rows[0]]))
    assert "Row 5, column 污染物代码: device CEMS0001 and a21026 repeat row 2" in info.value.problems
    permit_limits_import(path=limits_csv(tmp_path, rows))
    stolen = f"{pscene.brewery.credit_code},DW009,CEMS0001,a34013,20,mg/m3,,,"
    with pytest.raises(ImportRefused) as info:
        permit_limits_import(path=limits_csv(tmp_path, [stolen], "stolen.csv"))
    assert info.value.problems == ["Row 2, column 监测设备编码: device CEMS0001 belongs to another target"]
    bad = tmp_path / "bad.csv"
    bad.write_text("统一社会信用代码,排放口编码\nx,y\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as info:
        permit_limits_import(path=str(bad))
    assert "监测设备编码" in info.value.message


def test_command_prints_the_finding_and_exits_1_on_refusal(tmp_path, pscene, capsys):
    call_command("import_permit_limits", limits_csv(tmp_path, _rows(pscene)))
    out = capsys.readouterr().out
    assert "imported 3 new and updated 0 permit limits" in out
    assert f"finding: {pscene.chem.credit_code} prohibited: ZH-1" in out
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_permit_limits", str(tmp_path / "missing.csv"))
    assert exit_info.value.code == 1
