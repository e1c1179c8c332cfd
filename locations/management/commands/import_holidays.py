from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from locations.models import Location
from locations.services.closures import closures_import_holidays
from practice.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Create whole-day closures for public holidays (from the `holidays` package). Idempotent: "
        "a date a location is already closed all day is left alone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--country", required=True, help="ISO 3166-1 code, e.g. US.")
        parser.add_argument("--subdiv", help="State or province, e.g. IL.")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--location", type=int, help="One location's id; default: every active location.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["location"] is not None:
            locations = list(Location.objects.filter(pk=options["location"]))
            if not locations:
                raise CommandError(f"No location with id {options['location']}.")
        else:
            locations = list(Location.objects.filter(is_active=True))
        try:
            created = closures_import_holidays(
                country=options["country"].upper(),
                subdiv=options["subdiv"].upper() if options["subdiv"] else None,
                year=options["year"],
                locations=locations,
            )
        except InvalidInput as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"{len(created)} closures created for {len(locations)} locations.")
