"""Schema post-processing: what drf-spectacular cannot see from the views.

- Every operation documents the API's error body for 400/401/403/404/409/413/429, in the
  media types the operation answers with (a GeoJSON view renders its errors as GeoJSON's
  media type too).
- GeoJSON pages (`leads/`, `zoning/units/`) are FeatureCollections: `type`, `count`,
  `next`, `previous`, `features`; `leads/` gives the plain page with `?format=json`.
"""

ERROR_STATUSES = {
    "400": "Invalid input: `problems` names each field (`field: message`); field errors are also keyed by field.",
    "401": "Not signed in (token authentication).",
    "403": "Signed in, but the role or the scope does not allow this.",
    "404": "No such object in your scope.",
    "409": "The object moved since you read it: `current_status`, `changed_by`, `changed_at` say how.",
    "413": "The body, an upload or a geometry is beyond a limit (`code`: request_too_large, too_many_vertices...).",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a message, a stable code, and the problems one per line.",
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "string"}},
        "current_status": {"type": "string"},
        "changed_by": {"type": "string", "nullable": True},
        "changed_at": {"type": "string", "format": "date-time"},
    },
    "required": ["detail", "code"],
}

GEOMETRY_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "GeoJSON geometry in EPSG:4326",
    "properties": {"type": {"type": "string"}, "coordinates": {"type": "array", "items": {}}},
    "required": ["type"],
}


def _feature_collection(properties_ref: str) -> dict:
    return {
        "type": "object",
        "required": ["type", "count", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "count": {"type": "integer"},
            "next": {"type": "string", "format": "uri", "nullable": True},
            "previous": {"type": "string", "format": "uri", "nullable": True},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "id", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "integer"},
                        "geometry": GEOMETRY_SCHEMA,
                        "properties": {"$ref": properties_ref},
                    },
                },
            },
        },
    }


def postprocess(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    if "Lead" in schemas:
        # A lead Feature's properties: the lead without `geom` (that is the geometry), plus `layer`.
        props = {k: v for k, v in schemas["Lead"].get("properties", {}).items() if k != "geom"}
        props["layer"] = {"type": "string", "nullable": True}
        required = [k for k in schemas["Lead"].get("required", []) if k != "geom"]
        schemas["LeadProperties"] = {**schemas["Lead"], "properties": props, "required": required}
    schemas["LeadFeatureCollection"] = _feature_collection("#/components/schemas/LeadProperties")
    for name, schema in schemas.items():
        # rest_framework_gis's pages say `results` is required but send `features`.
        if name.startswith("Paginated") and "features" in schema.get("properties", {}):
            schema["required"] = ["type", "count", "features"]
            feature = name.removeprefix("Paginated").removesuffix("List")
            if feature in schemas:
                schema["properties"]["features"] = {
                    "type": "array",
                    "items": {"$ref": f"#/components/schemas/{feature}"},
                }
    leads = result["paths"].get("/api/v1/leads/", {}).get("get")
    if leads:
        content = leads["responses"]["200"]["content"]
        content["application/geo+json"] = {"schema": {"$ref": "#/components/schemas/LeadFeatureCollection"}}
        leads["description"] = (
            leads.get("description", "") + "\n\nDefault: a GeoJSON FeatureCollection (`application/geo+json`);"
            " `?format=json`: the plain page (`application/json`)."
        )
    for path in result["paths"].values():
        for method, operation in path.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            types = {"application/json"}
            for status, response in responses.items():
                if status.startswith("2"):
                    types |= set(response.get("content", {}))
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {t: {"schema": {"$ref": "#/components/schemas/Error"}} for t in sorted(types)},
                    },
                )
    return result
