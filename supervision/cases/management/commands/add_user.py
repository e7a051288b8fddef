from supervision.commands import ServiceCommand

from ...choices import Role
from ...services.users import user_upsert


class Command(ServiceCommand):
    help = "Create or update a user with one role and its scope (a division adcode, or city-wide)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--division", help="district adcode, e.g. 220102; omit for city-wide roles")
        parser.add_argument("--password", help="omit to keep the current password (new users: unusable)")
        parser.add_argument("--email", default="")

    def handle(self, *args, **opts):
        user, created = user_upsert(
            username=opts["username"],
            role=opts["role"],
            division_adcode=opts["division"],
            password=opts["password"],
            email=opts["email"],
        )
        scope = opts["division"] or "city-wide"
        self.stdout.write(f"{'created' if created else 'updated'} {user.username}: {opts['role']}, {scope}")
