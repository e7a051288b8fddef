"""Enterprise CEMS values: stored in batches, once per device, pollutant, command and time.

The HJ 212 receiver hands batches of rows here from its writer thread. One INSERT per
batch with `ON CONFLICT DO NOTHING` on (device, pollutant, cn, time): a resent packet is
stored once, and the call says which rows were new (the ones evaluation must look at).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

# Months whose partition this process has already ensured (the function is idempotent anyway).
_months_ready: set[date] = set()
_months_lock = threading.Lock()


@dataclass(frozen=True)
class CemsRow:
    """One value to store (times are timezone-aware)."""

    device_mn: str
    outlet_code: str
    pollutant_code: str
    cn: int
    data_time: datetime
    avg: float | None
    min: float | None
    max: float | None
    flag: str


def cems_partitions_ensure(*, months: set[date]) -> None:
    """Create the monthly partitions the rows will go to (once per process per month)."""
    missing = sorted(m for m in months if m not in _months_ready)
    if not missing:
        return
    with _months_lock, connection.cursor() as cursor:
        for month in missing:
            cursor.execute("SELECT cems_value_partition_ensure(%s)", [month])
    _months_ready.update(missing)


def cems_values_store(*, rows: list[CemsRow], received_at: datetime) -> list[CemsRow]:
    """Insert the rows not stored yet; return those that were new."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return _store_portable(rows=rows, received_at=received_at)
    # Partition bounds are dates read in the connection's zone, which Django sets to UTC.
    cems_partitions_ensure(months={r.data_time.astimezone(UTC).date().replace(day=1) for r in rows})
    # One statement per batch with ten array parameters (unnest), not ten parameters per row:
    # binding stays cheap however large the batch.
    columns = list(
        zip(
            *(
                (r.device_mn, r.outlet_code, r.pollutant_code, r.cn, r.data_time, r.avg, r.min, r.max, r.flag)
                for r in rows
            ),
            strict=True,
        )
    )
    sql = (
        "INSERT INTO remote_sensing_cemsvalue "
        "(device_mn, outlet_code, pollutant_code, cn, data_time, avg, min, max, flag, received_at) "
        "SELECT d, o, p, c, t, a, mi, ma, f, %s FROM unnest("
        "%s::varchar[], %s::varchar[], %s::varchar[], %s::smallint[], %s::timestamptz[], "
        "%s::float8[], %s::float8[], %s::float8[], %s::varchar[]) AS v(d, o, p, c, t, a, mi, ma, f) "
        "ON CONFLICT (device_mn, pollutant_code, cn, data_time) DO NOTHING "
        "RETURNING device_mn, pollutant_code, cn, data_time"
    )
    params = [received_at, *(list(column) for column in columns)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)  # type: ignore[arg-type]
        new = {(mn, code, cn, t) for mn, code, cn, t in cursor.fetchall()}
    return [r for r in rows if (r.device_mn, r.pollutant_code, r.cn, r.data_time) in new]


def _store_portable(*, rows: list[CemsRow], received_at: datetime) -> list[CemsRow]:
    """The embedded demo's store (SpatiaLite: no unnest, no partitions): row by row, same uniqueness."""
    from ..models import CemsValue

    new = []
    with transaction.atomic():
        for r in rows:
            key = {"device_mn": r.device_mn, "pollutant_code": r.pollutant_code, "cn": r.cn, "data_time": r.data_time}
            if CemsValue.objects.filter(**key).exists():
                continue
            CemsValue.objects.create(
                **key, outlet_code=r.outlet_code, avg=r.avg, min=r.min, max=r.max, flag=r.flag, received_at=received_at
            )
            new.append(r)
    return new
