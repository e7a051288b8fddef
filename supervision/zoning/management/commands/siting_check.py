import json

from django.conf import settings

from supervision.commands import ServiceCommand
from supervision.errors import ServiceError, error_lines
from supervision.zoning.api.serializers import SitingInputSerializer
from supervision.zoning.choices import ProjectType
from supervision.zoning.selectors import siting_evaluate


class Command(ServiceCommand):
    help = (
        "Project siting assessment (项目选址研判) for a GeoJSON site: prints the same JSON as the API. "
        "Exit 0 whatever the verdict; non-zero only for bad input. Nothing is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="plan code")
        parser.add_argument(
            "--geojson",
            required=True,
            help="the site as a GeoJSON geometry (Point, LineString, Polygon …)",
        )
        parser.add_argument(
            "--srid",
            type=int,
            default=settings.API_SRID,
            help="EPSG code of the coordinates (default %(default)s)",
        )
        parser.add_argument("--industry", required=True, help="GB/T 4754-2017 industry code, e.g. C2614")
        parser.add_argument("--project-type", required=True, choices=ProjectType.values)
        parser.add_argument("--format", choices=["json"], default="json")

    def handle(self, *args, **opts):
        data = SitingInputSerializer(
            data={
                "plan": opts["plan"],
                "geometry": opts["geojson"],
                "srid": opts["srid"],
                "industry_code": opts["industry"],
                "project_type": opts["project_type"],
            }
        )
        if not data.is_valid():
            raise ServiceError("bad siting input; nothing assessed.", problems=error_lines(data.errors))
        result = siting_evaluate(
            plan=data.validated_data["plan"],
            geometry=data.validated_data["geometry"],
            industry_code=data.validated_data["industry_code"],
            project_type=data.validated_data["project_type"],
        )
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
