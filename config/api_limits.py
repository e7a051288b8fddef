"""Refusals at the door of the API, before any view runs: oversized bodies (413) and NUL bytes
in query parameters (400), both with the API's error body `{"detail", "code", "problems"}`."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from supervision.api_input import body_too_large


class ApiLimitsMiddleware:
    """Body size by Content-Length (multipart uploads have their own, larger limit) and clean query strings."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            refusal = self.refusal(request)
            if refusal is not None:
                return refusal
            response = self.get_response(request)
            if response.status_code == 404 and not response.get("Content-Type", "").startswith("application/"):
                # No API route matched (Django's HTML page): answer in the API's own terms.
                message = _("No such API resource: %(path)s") % {"path": request.path}
                return JsonResponse({"detail": message, "code": "not_found"}, status=404)
            return response
        return self.get_response(request)

    def refusal(self, request):
        message = body_too_large(request)
        if message is not None:
            return JsonResponse({"detail": message, "code": "request_too_large", "problems": [message]}, status=413)
        problems = [
            _("%(name)s: contains a NUL character.") % {"name": name.replace("\x00", "\\0")}
            for name, values in request.GET.lists()
            if "\x00" in name or any("\x00" in v for v in values)
        ]
        if problems:
            return JsonResponse({"detail": problems[0], "code": "invalid", "problems": problems}, status=400)
        return None
