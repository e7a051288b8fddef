"""GeoJSON pages encoded without DRF fields: JSON text made once, put in the response as it is.

A list of features is the API's heaviest answer (the desk's lead list, a page of unit
polygons). Built from plain rows (`values_list`) with each geometry as GeoJSON text from
PostGIS, a page needs no model instance, no serializer field and no parse-and-dump of the
geometry per row. `PreEncodedJSON` marks such text; `PreEncodedJSONRenderer` renders the
page's envelope (type, count, next, previous) as usual and puts the features in as they are.
The serializers stay the one definition of the fields and of the schema; tests check that
both paths give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from rest_framework.renderers import JSONRenderer


class PreEncodedJSON:
    """A JSON array encoded already: its items as UTF-8 bytes, joined only into the response
    (one large allocation a page, not one per step: a worker's memory stays flat)."""

    def __init__(self, items: list[bytes]):
        self.items = items

    def pieces(self) -> list[bytes]:
        out = [b"["]
        for i, item in enumerate(self.items):
            if i:
                out.append(b",")
            out.append(item)
        out.append(b"]")
        return out

    def encode(self) -> bytes:
        return b"".join(self.pieces())


# As DRF's JSONRenderer: compact, UTF-8 characters kept, NaN refused.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def features_encode(features: Iterable[tuple[object, str | None, dict]], *, id_first: bool = False) -> PreEncodedJSON:
    """GeoJSON features from (id, geometry GeoJSON text or None, properties), encoded.

    `id_first`: rest_framework_gis's order (id, type, geometry, properties) rather than
    (type, id, geometry, properties)."""
    items = []
    for fid, geometry, properties in features:
        head = f'"id":{_encode(fid)},"type":"Feature"' if id_first else f'"type":"Feature","id":{_encode(fid)}'
        text = f'{{{head},"geometry":{geometry or "null"},"properties":{_encode(properties)}}}'
        # As DRF's renderer: the two line separators JSON allows but JavaScript does not.
        items.append(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode())
    return PreEncodedJSON(items)


class PreEncodedJSONRenderer(JSONRenderer):
    """JSONRenderer that puts a page's `features` in as they are when they are PreEncodedJSON."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, PreEncodedJSON):
            return super().render(data, accepted_media_type, renderer_context)
        head = super().render({k: v for k, v in data.items() if k != "features"}, accepted_media_type, renderer_context)
        return b"".join([head[: head.rindex(b"}")], b',"features":', *features.pieces(), b"}"])
