from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from practice.errors import DomainError
from practice.permissions import ROLE_GROUPS
from practice.services import user_create_or_update


class Command(BaseCommand):
    help = "Create a login with a role (or reset an existing one). Prompts for the password if omitted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(ROLE_GROUPS))
        parser.add_argument("--password", help="Omit to be prompted (keeps it out of shell history).")

    def handle(self, *args: Any, username: str, role: str, password: str | None, **options: Any) -> None:
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        try:
            user_create_or_update(username=username, role=role, password=password)
        except DomainError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"{username} is now a{'n' if role[0] in 'aeiou' else ''} {role}.")
