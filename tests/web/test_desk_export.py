"""The desk's CSV export streams: same columns and bytes as the whole-file export it replaced,
read from the database in chunks (a fixed number of queries, whatever the number of leads)."""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone


def _expected_csv(leads) -> bytes:
    """What the desk exported before streaming: a BOM, the Chinese header, one line per lead."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["编号", "标题", "来源", "状态", "区县", "单元", "发现时间", "核查期限"])
    for lead in leads:
        writer.writerow(
            [
                lead.pk,
                "'" + lead.title if lead.title.startswith("=") else lead.title,
                lead.get_source_display(),
                lead.get_status_display(),
                lead.division.name,
                lead.unit.code if lead.unit else "",
                timezone.localtime(lead.detected_at).strftime("%Y-%m-%d %H:%M"),
                timezone.localtime(lead.verification_due_at).strftime("%Y-%m-%d") if lead.verification_due_at else "",
            ]
        )
    return buf.getvalue().encode("utf-8-sig")


def _more_leads(world, n: int) -> None:
    from supervision.cases.models import Lead

    model = Lead.objects.get(pk=world.leads["a"].pk)
    clones = []
    for i in range(n):
        model.pk = None
        model.id = None
        model.title = f"复制线索 {i}"
        clones.append(Lead(**{f.attname: getattr(model, f.attname) for f in Lead._meta.concrete_fields}))
    Lead.objects.bulk_create(clones)


@pytest.mark.django_db
def test_the_desk_csv_streams_the_same_bytes(world, client):
    from supervision.cases.models import Lead

    Lead.objects.filter(pk=world.leads["a"].pk).update(title='=HYPERLINK("http://x")')
    client.force_login(world.users["admin"])
    response = client.get("/desk/?sort=id&export=csv")
    assert response.status_code == 200
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    body = b"".join(response.streaming_content)
    leads = list(Lead.objects.select_related("division", "unit").order_by("id"))
    assert body.startswith(b"\xef\xbb\xbf")
    assert body == _expected_csv(leads)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "标题", "来源", "状态", "区县", "单元", "发现时间", "核查期限"]
    assert [int(r[0]) for r in rows[1:]] == [lead.pk for lead in leads]
    assert rows[1][1] == '\'=HYPERLINK("http://x")'


@pytest.mark.django_db
def test_the_desk_csv_does_not_query_per_lead(world, client, django_assert_max_num_queries):
    from supervision.cases.models import Lead

    client.force_login(world.users["admin"])
    with django_assert_max_num_queries(12) as few:
        response = client.get("/desk/?sort=id&export=csv")
        few_rows = b"".join(response.streaming_content).count(b"\n")
    _more_leads(world, 60)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = client.get("/desk/?sort=id&export=csv")
        many_rows = b"".join(response.streaming_content).count(b"\n")
    assert many_rows == few_rows + 60 == 1 + Lead.objects.count()
    assert len(many.captured_queries) == len(few.captured_queries)
