"""Row-level security: the application role, its grants and the tenant policies of the tables that
exist now. Tables later migrations add get theirs from ``manage.py migrate`` (apps/tenancy's
``migrate``, which re-applies every policy after migrating)."""

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from apps.tenancy import rls
    from apps.tenancy.scope import app_role

    rls.apply_all(app_role())


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    from apps.tenancy import rls

    rls.remove_all()


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
