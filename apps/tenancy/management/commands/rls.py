"""``manage.py rls check`` lists tenant tables without their policy (exit 1 if any);
``manage.py rls apply`` (re)applies the role, grants and policies as the owner."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.tenancy import rls
from apps.tenancy.scope import app_role, owner_connection


class Command(BaseCommand):
    help = "Check or (re)apply the row-level security policies of every tenant table."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check", "apply"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "apply":
            with owner_connection("manage.py rls apply"):
                secured = rls.apply_all(app_role())
            self.stdout.write(f"{secured} tables secured.")
            return
        missing = rls.missing_policies()
        if missing:
            raise CommandError("Tables without row-level security: " + ", ".join(missing))
        self.stdout.write(f"Every tenant table has its policy ({len(rls.tenant_tables())}).")
