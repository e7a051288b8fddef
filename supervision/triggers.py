"""Database triggers (django-pgtrigger) that keep audit rows and frozen records as they are.

`AppendOnlyModel.save()/delete()` refuse changes through the ORM instance; these triggers
refuse them in PostgreSQL itself, so a queryset `update()`, raw SQL or a psql session cannot
rewrite a workflow's history either. pgtrigger installs them only on PostgreSQL: the embedded
SpatiaLite demo migrates without them.
"""

from __future__ import annotations

import functools
import operator

import pgtrigger


def append_only() -> list[pgtrigger.Trigger]:
    """No UPDATE and no DELETE, ever: the table only grows."""
    return [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]


def frozen_after(*, name: str, flag: pgtrigger.Q, fields: list[str]) -> list[pgtrigger.Trigger]:
    """Once `flag` holds for the old row, `fields` may not change and the row may not be deleted."""
    changed = functools.reduce(
        operator.or_, [pgtrigger.Q(**{f"old__{f}__df": pgtrigger.F(f"new__{f}")}) for f in fields]
    )
    return [
        pgtrigger.Protect(name=f"{name}_frozen", operation=pgtrigger.Update, condition=flag & changed),
        pgtrigger.Protect(name=f"{name}_kept", operation=pgtrigger.Delete, condition=flag),
    ]
