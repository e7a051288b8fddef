"""Enterprise CEMS values: stored in batches, once per device, pollutant, command and time.

The HJ 212 receiver hands batches of rows here from its writer threads. Per batch: one
COPY into a temporary staging table (psycopg 3 formats the rows in C; no parameters to
bind), then one `INSERT … SELECT … ON CONFLICT DO NOTHING` on (device, pollutant, cn,
time), in one transaction: a resent packet is stored once. Asked for, the call says
which rows were new (the ones evaluation must look at); otherwise it skips the RETURNING.
"""

from __future__ import annotations

import threading
import weakref
from datetime import UTC, date, datetime
from typing import NamedTuple

from django.db import connection, transaction

# Months whose partition this process has already ensured (the function is idempotent anyway).
_months_ready: set[date] = set()
_months_lock = threading.Lock()
# psycopg connections whose session already has the staging table (temporary: per session).
_staged: weakref.WeakSet = weakref.WeakSet()

_COLUMNS = "device_mn, outlet_code, pollutant_code, cn, data_time, avg, min, max, flag"
# ON COMMIT DELETE ROWS: the staging table is empty again at each commit (or rollback).
_STAGE_CREATE = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS cems_value_stage ("
    "device_mn varchar(32), outlet_code varchar(32), pollutant_code varchar(16), cn smallint, "
    "data_time timestamptz, avg float8, min float8, max float8, flag varchar(4)) ON COMMIT DELETE ROWS"
)
_STAGE_COPY = f"COPY cems_value_stage ({_COLUMNS}) FROM STDIN"
_STAGE_INSERT = (
    f"INSERT INTO remote_sensing_cemsvalue ({_COLUMNS}, received_at) "
    f"SELECT {_COLUMNS}, %s FROM cems_value_stage "
    "ON CONFLICT (device_mn, pollutant_code, cn, data_time) DO NOTHING"
)


class CemsRow(NamedTuple):
    """One value to store (times are timezone-aware); a tuple in column order, as COPY takes it."""

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


def cems_values_store(*, rows: list[CemsRow], received_at: datetime, report_new: bool = True) -> list[CemsRow]:
    """Insert the rows not stored yet; return those that were new (nothing unless `report_new`)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        stored = _store_portable(rows=rows, received_at=received_at)
        return stored if report_new else []
    # Partition bounds are dates read in the connection's zone, which Django sets to UTC.
    # A batch holds few distinct times (devices report the same hour): convert each once.
    times = {r.data_time for r in rows}
    cems_partitions_ensure(months={t.astimezone(UTC).date().replace(day=1) for t in times})
    new: set[tuple] = set()
    # Inside a caller's transaction the CREATE may still be rolled back: remember it only
    # when this transaction is the outermost one (the receiver's writer threads).
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        raw = connection.connection
        created = raw not in _staged
        if created:
            cursor.execute(_STAGE_CREATE)
        with cursor.copy(_STAGE_COPY) as copy:
            for row in rows:
                copy.write_row(row)
        if report_new:
            cursor.execute(f"{_STAGE_INSERT} RETURNING device_mn, pollutant_code, cn, data_time", [received_at])
            new = set(cursor.fetchall())
        else:
            cursor.execute(_STAGE_INSERT, [received_at])
    if created and outermost:
        _staged.add(raw)  # only once committed: a rolled-back CREATE leaves no table
    if not report_new:
        return []
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
