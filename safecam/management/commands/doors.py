"""``manage.py doors``: every route of the URLconf with its door (who may come in, and why); exit 1
naming the routes without one. For review and for the DPO's record of who reaches what."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from safecam.doors import ADMIN_NAMESPACE, routes


class Command(BaseCommand):
    help = "Lists every route with its door; exits 1 when a route has none (or one its view does not keep)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--admin", action="store_true", help="list the admin's routes one by one too")

    def handle(self, *args: Any, **options: Any) -> None:
        wrong, admin = 0, 0
        for route in routes():
            if route.namespace == ADMIN_NAMESPACE and not route.problem and not options["admin"]:
                admin += 1
                continue
            if route.problem:
                wrong += 1
                self.stdout.write(self.style.ERROR(str(route)))
            else:
                self.stdout.write(str(route))
        if admin:
            self.stdout.write(f"… and {admin} routes of the admin site: admin (active staff only); --admin lists them")
        if wrong:
            self.stderr.write(self.style.ERROR(f"{wrong} routes without a door."))
            raise SystemExit(1)
