#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    from django.core.management import execute_from_command_line

    from apps.tenancy.scope import command_scope

    # Row-level security: an operator's command runs in the logged platform scope (apps/tenancy).
    with command_scope(sys.argv):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
