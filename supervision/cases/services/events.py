"""One step of a lead's or a case's workflow: the status, its event row and the event's files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.db import models, transaction

from supervision.workflow import M, transition_to

from .attachments import CheckedFile, attachments_store


def workflow_step(
    obj: M,
    *,
    owner: str,
    target: str,
    transitions: Mapping[str, frozenset[str] | set[str]],
    event_model: type[models.Model],
    label: str,
    actor,
    comment: str = "",
    fields: dict | None = None,
    data: dict | None = None,
    files: Sequence[CheckedFile] = (),
) -> M:
    """Compare-and-set obj's status, append one event (FK `owner`), store the files on that event.

    `owner` is the name of the event's foreign key and of the Evidence column ("lead" or
    "case"); the event's own Evidence column is f"{owner}_event".
    """
    with transaction.atomic():
        obj = transition_to(
            obj,
            target=target,
            transitions=transitions,
            event_model=event_model,
            event_fields={
                owner: obj,
                "actor": actor if getattr(actor, "pk", None) else None,
                "comment": comment,
                "data": data or {},
            },
            fields=fields,
            label=label,
        )
        if files:
            attachments_store(files=files, actor=actor, **{owner: obj, f"{owner}_event": obj._last_event})  # type: ignore[attr-defined]
    return obj
