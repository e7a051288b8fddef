"""Field sync API: the offline package, and idempotent PUTs keyed by the device's client_id.

First arrival: 201 with the stored record. A resend: 200 with the same body, nothing
written. A conflict: 409 with `server`, the server's version. Another person's
inspection or lead: 404.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from supervision.cases import permissions as perms
from supervision.errors import ServiceError

from .. import selectors, services
from . import serializers as s


def _valid(serializer_class, data):
    """Validate or raise a ServiceError naming each field (the API's 4xx shape)."""
    ser = serializer_class(data=data)
    if not ser.is_valid():
        problems = []
        for name, errors in ser.errors.items():
            if isinstance(errors, dict):  # nested ValidationError({field: msg}) from validate()
                errors = [f"{k}: {v}" for k, v in errors.items()]
            problems.extend(f"{name}: {e}" for e in (errors if isinstance(errors, list) else [errors]))
        raise ServiceError("; ".join(problems), problems=problems, code="invalid")
    return ser.validated_data


def _place(v) -> services.Place:
    return s.PlaceSerializer.place(v)


def _reply(fn, **kwargs) -> Response:
    try:
        result = fn(**kwargs)
    except services.FieldConflict as exc:
        return Response({"detail": exc.message, "code": exc.code, "server": exc.server}, status=409)
    return Response(result.response, status=201 if result.created else 200)


def _answer(request, client_id, data) -> Response:
    v = _valid(s.AnswerSerializer, data)
    return _reply(
        services.field_answer_sync,
        actor=request.user,
        client_id=client_id,
        inspection_id=v["inspection"],
        item_id=v["item"],
        result=v["result"],
        note=v["note"],
        place=_place(v),
    )


def _finding(request, client_id, data) -> Response:
    v = _valid(s.FindingSerializer, data)
    return _reply(
        services.field_finding_sync,
        actor=request.user,
        client_id=client_id,
        lead_id=v["lead"],
        finding=v["finding"],
        place=_place(v),
    )


class FieldView(APIView):
    permission_classes = [perms.HasCaseRole]


class FieldPackageView(FieldView):
    """What the field page takes offline: open inspections with checklists, leads to verify, outlines, chips, tiles."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(selectors.field_package(user=request.user))


class FieldAnswerView(FieldView):
    """PUT a checklist answer recorded offline: {inspection, item, result, note, latitude, longitude, recorded_at}."""

    parser_classes = [JSONParser]

    @extend_schema(request=s.AnswerSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, client_id: uuid.UUID):
        return _answer(request, client_id, request.data)


class FieldFindingView(FieldView):
    """PUT a lead verification finding recorded offline: {lead, finding, latitude, longitude, recorded_at}."""

    parser_classes = [JSONParser]

    @extend_schema(request=s.FindingSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, client_id: uuid.UUID):
        return _finding(request, client_id, request.data)


class FieldPhotoView(FieldView):
    """PUT a photo (multipart: file, item+inspection or lead, latitude, longitude, accuracy_m, recorded_at, caption)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=s.PhotoSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request, client_id: uuid.UUID):
        v = _valid(s.PhotoSerializer, request.data)
        return _reply(
            services.field_photo_sync,
            actor=request.user,
            client_id=client_id,
            file=v["file"],
            inspection_id=v.get("inspection"),
            item_id=v.get("item"),
            lead_id=v.get("lead"),
            caption=v["caption"],
            place=_place(v),
        )


class FieldSyncView(FieldView):
    """POST a batch {records: [{kind: answer|finding, client_id, ...}]}; one result per record, in order.

    Each result has the HTTP status the record would get on its own (201, 200, 409, 4xx)
    and its body; the batch itself answers 200. Records are independent: one refused
    record does not hold back the others.
    """

    parser_classes = [JSONParser]
    handlers = {"answer": _answer, "finding": _finding}

    @extend_schema(request=s.BatchSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        records = _valid(s.BatchSerializer, request.data)["records"]
        results = []
        for raw in records:
            try:
                head = _valid(s.BatchRecordSerializer, raw)
                reply = self.handlers[head["kind"]](request, head["client_id"], raw)
                status, body = reply.status_code, reply.data
            except ServiceError as exc:
                status = exc.status_code
                body = {"detail": exc.message, "code": exc.code}
                if exc.problems:
                    body["problems"] = exc.problems
            results.append({"client_id": str(raw.get("client_id", "")), "status": status, "body": body})
        return Response({"results": results})
