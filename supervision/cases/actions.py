"""The one table of what can be done to a lead or a case: used by the API's action views and the pages.

Each action names the role it needs (`permissions.ACTION_ROLES`), the API input serializer
that validates it, the service it calls and how the validated input becomes the service's
keyword arguments. The API (`cases/api/views.py`) and the lead and case pages (`cases/web.py`)
both read it, so a rule cannot drift between them: same scope lookup (404), same role check
(403) before the input is read, same serializer (400 / the page's message), same service call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from . import permissions as perms
from .api import serializers as inputs
from .services import assignment
from .services import cases as case_services
from .services import leads as lead_services


@dataclass(frozen=True)
class ObjectAction:
    """One action on a lead or a case: role, input, service and the mapping between them."""

    name: str  # as the page posts it and `allowed_actions` lists it
    permission: str  # key of permissions.ACTION_ROLES, checked before the input is read
    input: type[serializers.Serializer]
    service: Callable[..., Any]
    arguments: Callable[[Mapping[str, Any]], dict[str, Any]]  # validated input -> the service's keywords
    notice: Promise  # the page's message once done
    doc: str  # the API operation's description

    def allowed(self, actor) -> None:
        """Raise Forbidden (403) unless the actor's role may take this action."""
        perms.require_role(actor, self.permission)


@dataclass(frozen=True, eq=False)
class ActionTable:
    """The actions on one kind of object and how a request's id becomes that object (scoped: 404 outside)."""

    subject: str  # the services' keyword for the object: "lead" or "case"
    fetch: Callable[..., Any]  # fetch(actor=..., pk=...) -> the object, or NotFound
    actions: Mapping[str, ObjectAction]

    def __getitem__(self, name: str) -> ObjectAction:
        return self.actions[name]

    def __contains__(self, name: object) -> bool:
        return name in self.actions

    def get_object(self, *, actor, pk: int):
        return self.fetch(actor=actor, pk=pk)

    def run(self, name: str, *, obj, actor, data: Mapping[str, Any]):
        """Call the action's service with the object, the actor and the mapped input; its result as is."""
        action = self.actions[name]
        return action.service(**{self.subject: obj}, actor=actor, **action.arguments(data))


def _deadline(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"days": v.get("days"), "day_kind": v.get("day_kind"), "due_on": v.get("due_date")}


LEADS = ActionTable(
    subject="lead",
    fetch=lambda *, actor, pk: lead_services.lead_get_for(actor=actor, lead_id=pk),
    actions={
        a.name: a
        for a in (
            ObjectAction(
                name="dispatch",
                permission="lead.dispatch",
                input=inputs.DispatchInput,
                service=lead_services.lead_dispatch,
                arguments=lambda v: {"division": v["division"], **_deadline(v), "comment": v["comment"]},
                notice=_("线索已派发。"),
                doc="Dispatch a new lead to a division with a verification deadline (days + calendar|working, or due_date).",
            ),
            ObjectAction(
                name="start_verification",
                permission="lead.start_verification",
                input=inputs.CommentInput,
                service=lead_services.lead_start_verification,
                arguments=lambda v: {"comment": v["comment"]},
                notice=_("已开始现场核查。"),
                doc="Start the on-site verification (现场核查).",
            ),
            ObjectAction(
                name="dismiss",
                permission="lead.dismiss",
                input=inputs.DismissInput,
                service=lead_services.lead_dismiss,
                arguments=lambda v: {"reason": v["reason"], "reason_code": v["reason_code"], "files": v["files"]},
                notice=_("线索已核查为不属实。"),
                doc="Dismiss (不属实): reason_code and a written reason are required.",
            ),
            ObjectAction(
                name="merge",
                permission="lead.merge",
                input=inputs.MergeInput,
                service=lead_services.lead_merge,
                arguments=lambda v: {"into_id": v["into"], "comment": v["comment"]},
                notice=_("线索已合并。"),
                doc="Merge a duplicate into another lead, which keeps its detections.",
            ),
            ObjectAction(
                name="confirm",
                permission="lead.confirm",
                input=inputs.ConfirmInput,
                service=lead_services.lead_confirm,  # returns (lead, case)
                arguments=lambda v: {"comment": v["comment"], "title": v["title"], "files": v["files"]},
                notice=_("线索属实，已立案。"),
                doc="Confirm (属实): the lead is concluded and a case is opened (its id is in `case`).",
            ),
            ObjectAction(
                name="assign",
                permission="lead.dispatch",
                input=inputs.AssignInput,
                service=assignment.lead_assign,
                arguments=lambda v: {"assignee_id": v["assignee"]},
                notice=_("已指派经办人。"),
                doc="Assign the lead to one officer or inspector of its division (经办人); null clears it.",
            ),
            ObjectAction(
                name="attach",
                permission="lead.attach",
                input=inputs.AttachInput,
                service=lead_services.lead_attach,  # returns the new Evidence rows
                arguments=lambda v: {"files": v["files"], "caption": v["caption"]},
                notice=_("材料已上传。"),
                doc="Add photos/PDFs to a lead (JPEG, PNG or PDF, up to CASES_ATTACHMENT_MAX_BYTES).",
            ),
        )
    },
)

CASES = ActionTable(
    subject="case",
    fetch=lambda *, actor, pk: case_services.case_get_for(actor=actor, case_id=pk),
    actions={
        a.name: a
        for a in (
            ObjectAction(
                name="order_rectification",
                permission="case.order_rectification",
                input=inputs.OrderRectificationInput,
                service=case_services.case_order_rectification,
                arguments=lambda v: {
                    "requirements": v["requirements"],
                    "days": v.get("days"),
                    "day_kind": v["day_kind"],
                    "due_on": v.get("due_date"),
                    "target_id": v["target"],
                    "party_unknown": v["party_unknown"],
                    "comment": v["comment"],
                },
                notice=_("已责令限期整改。"),
                doc="责令限期整改: requirements, responsible target (or party_unknown), deadline "
                "(days + calendar|working, or due_date).",
            ),
            ObjectAction(
                name="assign",
                permission="case.order_rectification",
                input=inputs.AssignInput,
                service=assignment.case_assign,
                arguments=lambda v: {"assignee_id": v["assignee"]},
                notice=_("已指派经办人。"),
                doc="Assign the case to one officer or inspector of its division (经办人); null clears it.",
            ),
            ObjectAction(
                name="name_party",
                permission="case.name_party",
                input=inputs.NamePartyInput,
                service=case_services.case_name_party,
                arguments=lambda v: {"target_id": v["target"], "comment": v["comment"]},
                notice=_("已查明责任主体。"),
                doc="查明责任主体: name the party of a case ordered with the party unknown (once).",
            ),
            ObjectAction(
                name="submit_rectification",
                permission="case.submit_rectification",
                input=inputs.CommentInput,
                service=case_services.case_submit_rectification,
                arguments=lambda v: {"files": v["files"], "comment": v["comment"]},
                notice=_("整改材料已提交。"),
                doc="Submit the rectification with evidence (multipart `files`: at least one JPEG/PNG/PDF).",
            ),
            ObjectAction(
                name="accept",
                permission="case.accept",
                input=inputs.CommentInput,
                service=case_services.case_accept,
                arguments=lambda v: {"comment": v["comment"], "files": v["files"]},
                notice=_("整改已验收销号。"),
                doc="整改验收, 销号: close the case.",
            ),
            ObjectAction(
                name="return",
                permission="case.return",
                input=inputs.ReturnInput,
                service=case_services.case_return,
                arguments=lambda v: {
                    "note": v["note"],
                    "days": v.get("days"),
                    "day_kind": v["day_kind"],
                    "due_on": v.get("due_date"),
                },
                notice=_("已退回整改。"),
                doc="Return the rectification with a note (optionally a new deadline).",
            ),
            ObjectAction(
                name="penalty",
                permission="case.penalty",
                input=inputs.PenaltyInput,
                service=case_services.case_decide_penalty,
                arguments=lambda v: {
                    "amount_yuan": v["amount_yuan"],
                    "legal_basis": v["legal_basis"],
                    "comment": v["comment"],
                },
                notice=_("处罚决定已记录。"),
                doc="行政处罚: amount in yuan and legal basis (once per case).",
            ),
            ObjectAction(
                name="transfer_police",
                permission="case.transfer_police",
                input=inputs.PoliceTransferInput,
                service=case_services.case_transfer_to_police,
                arguments=lambda v: {"agency": v["agency"], "comment": v["comment"]},
                notice=_("已移送公安。"),
                doc="移送公安: receiving agency and reason (once per case).",
            ),
            ObjectAction(
                name="publish",
                permission="case.publish",
                input=inputs.PublishInput,
                service=case_services.case_publish,
                arguments=lambda v: {"summary": v["summary"]},
                notice=_("已作为典型案例曝光。"),
                doc="典型案例曝光: publish with a public summary (bureau_admin).",
            ),
            ObjectAction(
                name="attach",
                permission="case.attach",
                input=inputs.AttachInput,
                service=case_services.case_attach,  # returns the new Evidence rows
                arguments=lambda v: {"files": v["files"], "caption": v["caption"]},
                notice=_("材料已上传。"),
                doc="Add photos/PDFs to a case (JPEG, PNG or PDF, up to CASES_ATTACHMENT_MAX_BYTES).",
            ),
        )
    },
)


def lead_create_arguments(v: Mapping[str, Any]) -> dict[str, Any]:
    """The new-lead form's validated input (`LeadCreateInput`) as `lead_create`'s arguments: page and API."""
    return {
        "source": v["source"],
        "plan": v["plan"],
        "title": v["title"],
        "description": v["description"],
        "location": v["location"],
        "division": v["division"],
        "target_id": v["target"],
        "files": v["files"],
        "received_at": v["received_at"],
    }
