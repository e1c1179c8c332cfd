from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from booking.demo import DatabaseNotEmpty, demo_load


class Command(BaseCommand):
    help = "Load the demo practice into an empty database; skip (or refuse) one that holds data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--refuse-if-not-empty",
            action="store_true",
            help="exit with an error, rather than skip, when the database already holds data",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            lines = demo_load()
        except DatabaseNotEmpty as error:
            if options["refuse_if_not_empty"]:
                raise CommandError(f"demo refused: {error}; it loads only into an empty database") from error
            self.stdout.write(f"demo skipped: {error}; nothing was changed")
            return
        self.stdout.write("demo loaded:")
        for line in lines:
            self.stdout.write(f"  {line}")
