"""Content-Security-Policy on every response: scripts only from our own static files.

Pages carry no inline `<script>` and no `on*=` attribute; data reaches the page's scripts
through `json_script` blocks (type application/json, which the browser never runs) and
data attributes. Styles may be inline (Leaflet and the templates position things with
style attributes); tiles may come from the configured basemap's host.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def csp_policy() -> str:
    """The policy in force: CSP_POLICY if set, else one built from the basemap setting."""
    if getattr(settings, "CSP_POLICY", ""):
        return settings.CSP_POLICY
    img = ["'self'", "data:", "blob:"]
    basemap = getattr(settings, "BASEMAP_URL", "")
    if basemap:
        parts = urlsplit(basemap)
        first, _, rest = parts.netloc.partition(".")
        host = f"*.{rest}" if "{" in first else parts.netloc  # t{s}.tianditu.gov.cn: every subdomain
        img.append(f"{parts.scheme}://{host}")
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": img,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the Content-Security-Policy header (Report-Only when CSP_REPORT_ONLY is on)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = (
            "Content-Security-Policy-Report-Only"
            if getattr(settings, "CSP_REPORT_ONLY", False)
            else "Content-Security-Policy"
        )

    def __call__(self, request):
        response = self.get_response(request)
        if self.header not in response:
            response[self.header] = csp_policy()
        return response
