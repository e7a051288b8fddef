"""OGC API – Features endpoints at /ogc/ (landing page, conformance, collections, items, item).

Authentication and the public-read rule are the API's (session or token; anonymous only
under PUBLIC_ZONING). Responses are JSON whatever the Accept header asks (a GIS client may
accept only application/geo+json), with the media types the standard names.
"""

from urllib.parse import urlencode

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import PublicZoningRead
from config.auth import BearerTokenAuthentication, ExpiringTokenAuthentication

from .. import ogc
from ..models import ZoningPlan
from ..selectors import plans_for_user

GEOJSON = "application/geo+json"
JSON = "application/json"


class GeoJsonRenderer(JSONRenderer):
    media_type = GEOJSON
    format = "geojson"


class OgcView(APIView):
    # The API's token check (digest, expiry), also as `Bearer` for GDAL and QGIS.
    authentication_classes = [SessionAuthentication, ExpiringTokenAuthentication, BearerTokenAuthentication]
    permission_classes = [PublicZoningRead]
    renderer_classes = [JSONRenderer, GeoJsonRenderer]

    def perform_content_negotiation(self, request, force=False):
        # Always answer JSON (never 406): OGC clients send Accept lists we need not honour exactly.
        return super().perform_content_negotiation(request, force=True)

    def url(self, path: str = "", **params) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return self.request.build_absolute_uri("/ogc/" + path) + (f"?{urlencode(query)}" if query else "")


def _json(data, *, media_type: str = JSON, crs: str | None = None) -> Response:
    response = Response(data, content_type=media_type)
    if crs:
        response["Content-Crs"] = f"<{crs}>"
    return response


@extend_schema(exclude=True)
class LandingView(OgcView):
    def get(self, request):
        return _json(
            {
                "title": "生态环境分区管控 OGC API – Features",
                "description": "Environmental control units and overlays of every zoning plan.",
                "links": [
                    {"rel": "self", "type": JSON, "title": "This document", "href": self.url()},
                    {
                        "rel": "service-desc",
                        "type": "application/vnd.oai.openapi+json;version=3.0",
                        "title": "OpenAPI definition",
                        "href": request.build_absolute_uri("/api/schema/") + "?format=json",
                    },
                    {"rel": "conformance", "type": JSON, "title": "Conformance", "href": self.url("conformance")},
                    {"rel": "data", "type": JSON, "title": "Collections", "href": self.url("collections")},
                ],
            }
        )


@extend_schema(exclude=True)
class ConformanceView(OgcView):
    def get(self, request):
        return _json({"conformsTo": ogc.CONFORMANCE})


def _collection(view: OgcView, plan: ZoningPlan, kind: str, extent: list[float] | None) -> dict:
    cid = ogc.collection_id(plan.code, kind)
    title = f"{plan.name} – {'环境管控单元' if kind == ogc.KIND_UNITS else '叠加图层'}"
    body = {
        "id": cid,
        "title": title,
        "description": f"{plan.name} ({plan.code}, version {plan.version}): {kind}",
        "itemType": "feature",
        "crs": list(ogc.SUPPORTED_CRS),
        "storageCrs": ogc.CGCS2000 if settings.STORAGE_SRID == ogc.CGCS2000_SRID else ogc.CRS84,
        "links": [
            {"rel": "self", "type": JSON, "title": title, "href": view.url(f"collections/{cid}")},
            {"rel": "items", "type": GEOJSON, "title": "Features", "href": view.url(f"collections/{cid}/items")},
        ],
    }
    if extent:
        body["extent"] = {"spatial": {"bbox": [extent], "crs": ogc.CRS84}}
    return body


@extend_schema(exclude=True)
class CollectionsView(OgcView):
    def get(self, request):
        plans = list(plans_for_user(request.user).order_by("code"))
        extents = ogc.plan_extents(plan_ids=[plan.pk for plan in plans])
        collections = [
            _collection(self, plan, kind, extents.get(plan.pk))
            for plan in plans
            for kind in (ogc.KIND_UNITS, ogc.KIND_OVERLAYS)
        ]
        return _json(
            {
                "links": [{"rel": "self", "type": JSON, "title": "Collections", "href": self.url("collections")}],
                "collections": collections,
            }
        )


@extend_schema(exclude=True)
class CollectionView(OgcView):
    def get(self, request, collection):
        plan, kind = ogc.collection_split(collection, plans=plans_for_user(request.user))
        return _json(_collection(self, plan, kind, ogc.plan_extents(plan_ids=[plan.pk]).get(plan.pk)))


@extend_schema(exclude=True)
class ItemsView(OgcView):
    def get(self, request, collection):
        plan, kind = ogc.collection_split(collection, plans=plans_for_user(request.user))
        params = request.query_params
        crs = ogc.crs_parse(params.get("crs"), param="crs")
        bbox_crs = ogc.crs_parse(params.get("bbox-crs"), param="bbox-crs")
        bbox = ogc.bbox_parse(params.get("bbox"), crs=bbox_crs)
        limit = ogc.int_param(
            params.get("limit"), param="limit", default=ogc.DEFAULT_LIMIT, minimum=1, maximum=ogc.MAX_LIMIT
        )
        offset = ogc.int_param(params.get("offset"), param="offset", default=0, minimum=0)
        features, matched = ogc.features_page(plan=plan, kind=kind, crs=crs, bbox=bbox, limit=limit, offset=offset)
        path = f"collections/{collection}/items"
        keep = {key: params.get(key) for key in ("bbox", "bbox-crs", "crs")}
        links = [
            {
                "rel": "self",
                "type": GEOJSON,
                "title": "This page",
                "href": self.url(path, **keep, limit=limit, offset=offset),
            },
            {"rel": "collection", "type": JSON, "title": "Collection", "href": self.url(f"collections/{collection}")},
        ]
        if offset + len(features) < matched:
            links.append(
                {
                    "rel": "next",
                    "type": GEOJSON,
                    "title": "Next page",
                    "href": self.url(path, **keep, limit=limit, offset=offset + limit),
                }
            )
        if offset > 0:
            links.append(
                {
                    "rel": "prev",
                    "type": GEOJSON,
                    "title": "Previous page",
                    "href": self.url(path, **keep, limit=limit, offset=max(offset - limit, 0)),
                }
            )
        return _json(
            {
                "type": "FeatureCollection",
                "features": features,
                "numberMatched": matched,
                "numberReturned": len(features),
                "links": links,
            },
            media_type=GEOJSON,
            crs=crs.uri,
        )


@extend_schema(exclude=True)
class ItemView(OgcView):
    def get(self, request, collection, feature_id):
        plan, kind = ogc.collection_split(collection, plans=plans_for_user(request.user))
        crs = ogc.crs_parse(request.query_params.get("crs"), param="crs")
        feature = ogc.feature_one(plan=plan, kind=kind, crs=crs, code=feature_id)
        feature["links"] = [
            {
                "rel": "self",
                "type": GEOJSON,
                "href": self.url(f"collections/{collection}/items/{feature_id}", crs=request.query_params.get("crs")),
            },
            {"rel": "collection", "type": JSON, "href": self.url(f"collections/{collection}")},
        ]
        return _json(feature, media_type=GEOJSON, crs=crs.uri)
