"""Scans (command, upload API, inbox), monitoring and siting run only on the plan in force."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from supervision.cases.models import Lead
from supervision.errors import ServiceError
from supervision.remote_sensing.models import ChangeLayer
from supervision.remote_sensing.services.layers import layer_register, layer_scan
from supervision.zoning.selectors import siting_evaluate

from .conftest import plant, scene_for, three_units

pytestmark = pytest.mark.django_db


def _raster(plan, tmp_path, name="draft.tif"):
    scene = scene_for("EPSG:32651")
    three_units(plan, scene)
    data = np.zeros((scene.height, scene.width), dtype=np.uint8)
    plant(data, 100, 100, 10, 3)  # water-body change in the priority unit
    return scene.write(tmp_path / name, data)


@pytest.mark.parametrize("status", ["draft", "filed", "superseded"])
def test_registering_a_scan_on_a_plan_not_in_force_is_refused(plan, tmp_path, status):
    path = _raster(plan, tmp_path)
    plan.status = status
    plan.save()
    with pytest.raises(ServiceError) as exc:
        layer_register(plan=plan, path=path, kind="landcover")
    assert exc.value.code == "plan_not_in_force" and plan.code in exc.value.message
    assert ChangeLayer.objects.count() == 0


def test_a_layer_of_a_superseded_plan_is_not_scanned_again(plan, tmp_path, media, django_capture_on_commit_callbacks):
    reg = layer_register(plan=plan, path=_raster(plan, tmp_path), kind="landcover")
    with django_capture_on_commit_callbacks(execute=True):
        layer_scan(layer=reg.layer)
    assert Lead.objects.get().change_class == 3  # water change in a priority unit raises a lead by default
    plan.status = "superseded"
    plan.save()
    with pytest.raises(ServiceError) as exc:
        layer_scan(layer=reg.layer)
    assert exc.value.code == "plan_not_in_force"


def test_upload_api_and_inbox_refuse_a_draft_plan(plan, tmp_path, media, admin_client, settings):
    path = _raster(plan, tmp_path)
    plan.status = "draft"
    plan.save()
    with open(path, "rb") as fh:
        resp = admin_client.post(
            "/api/v1/change-layers/",
            {"file": SimpleUploadedFile("d.tif", fh.read(), "image/tiff"), "plan": plan.code, "kind": "landcover"},
            format="multipart",
        )
    assert resp.status_code == 400 and resp.json()["code"] == "plan_not_in_force", resp.content
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings.CHANGE_LAYER_INBOX = str(inbox)
    (inbox / "d.tif").write_bytes(open(path, "rb").read())
    (inbox / "d.json").write_text(json.dumps({"plan": plan.code, "kind": "landcover"}), encoding="utf-8")
    from django.utils import translation

    from supervision.remote_sensing.services.inbox import inbox_collect

    with translation.override("en"):  # the API request above activated the Chinese of its Accept-Language
        assert inbox_collect() == []
    assert "not effective" in (inbox / "failed" / "d.tif.error.txt").read_text(encoding="utf-8")
    assert ChangeLayer.objects.count() == 0


def test_scan_command_on_a_draft_exits_non_zero(plan, tmp_path, capsys):
    path = _raster(plan, tmp_path)
    plan.status = "draft"
    plan.save()
    with pytest.raises(SystemExit) as exc:
        call_command("scan_change_layer", path, "--plan", plan.code, "--kind", "landcover")
    assert exc.value.code == 1 and "runs only on the plan in force" in capsys.readouterr().err


def test_siting_on_a_draft_plan_is_refused(plan):
    three_units(plan, scene_for("EPSG:32651"))
    unit = plan.units.order_by("code").first()
    site = unit.geom.point_on_surface
    plan.status = "filed"
    plan.save()
    with pytest.raises(ServiceError) as exc:
        siting_evaluate(
            plan=plan, geometry=Point(site.x, site.y, srid=site.srid), industry_code="C2614", project_type="new"
        )
    assert exc.value.code == "plan_not_in_force"
