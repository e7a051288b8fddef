"""Load the demo city: each app that has a `demo` module adds its part, in INSTALLED_APPS order.

zoning (plan, divisions, units, overlays, access list) → cases (users, targets, leads)
→ remote_sensing (the synthetic change raster) → assessment. Deterministic and idempotent:
running it twice leaves the same data.
"""

import importlib

from django.apps import apps

from supervision.commands import ServiceCommand


class Command(ServiceCommand):
    help = "Load the demo plan changchun-2024 (real district boundaries, 157 synthetic units) and each app's demo data."

    def handle(self, *args, **opts):
        for config in apps.get_app_configs():
            if not config.name.startswith("supervision."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.demo":
                    continue
                raise
            for line in module.demo_load():
                self.stdout.write(line)
