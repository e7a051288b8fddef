"""GeoJSON pages encoded without DRF fields: JSON text made once, put in the response as it is.

A list of features is among the API's heaviest answers (the desk's lead list). Built from
plain rows (`values_list`) with each geometry as GeoJSON text from PostGIS, a page needs no model instance, no serializer field and no parse-and-dump of the
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
    """A JSON array encoded already, kept as text pieces (each geometry the very string the
    database driver returned, never copied) and encoded once, into the response."""

    def __init__(self, pieces: list[str]):
        self._pieces = pieces

    def encode(self) -> bytes:
        return "".join(self._pieces).encode()


# As DRF's JSONRenderer: compact, UTF-8 characters kept, NaN refused.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def features_encode(features: Iterable[tuple[int, str | None, dict]]) -> PreEncodedJSON:
    """GeoJSON features from (id, geometry GeoJSON text or None, properties), encoded."""
    pieces = ["["]
    for fid, geometry, properties in features:
        head = f'"type":"Feature","id":{_encode(fid)}'
        props = _encode(properties).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        # As DRF's renderer: the two line separators JSON allows but JavaScript does not (GeoJSON
        # text from PostGIS holds numbers only).
        pieces += [
            "," if len(pieces) > 1 else "",
            "{",
            head,
            ',"geometry":',
            geometry or "null",
            ',"properties":',
            props,
            "}",
        ]
    pieces.append("]")
    return PreEncodedJSON(pieces)


class PreEncodedJSONRenderer(JSONRenderer):
    """JSONRenderer that puts a page's `features` in as they are when they are PreEncodedJSON."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, PreEncodedJSON):
            return super().render(data, accepted_media_type, renderer_context)
        head = super().render({k: v for k, v in data.items() if k != "features"}, accepted_media_type, renderer_context)
        return b"".join([head[: head.rindex(b"}")], b',"features":', features.encode(), b"}"])
