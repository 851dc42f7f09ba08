"""``migrate`` as the tables' owner, then every row-level security policy (re)applied.

Overrides Django's command (an app's command wins over the core one), so that ``manage.py migrate``
and the test database's creation (pytest-django calls ``migrate``) both run as the owner, in the
platform scope, and leave no tenant table without its policy.
"""

from typing import Any

from django.core.management.commands import migrate

from apps.tenancy import rls
from apps.tenancy.scope import app_role, owner_connection


class Command(migrate.Command):
    def execute(self, *args: Any, **options: Any) -> Any:
        with owner_connection("manage.py migrate"):
            result = super().execute(*args, **options)
            secured = rls.apply_all(app_role())
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"Row-level security: {secured} tables secured.")
            return result
