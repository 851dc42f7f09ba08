"""The tables' owner as a role that is not a superuser (README, "Security model").

Every other test connects as the superuser of the test cluster, which bypasses row-level security
whatever the policies say. Here a database is migrated, seeded, dumped and restored by an owner
that is only what a production owner should be (LOGIN, CREATEDB; no SUPERUSER, no BYPASSRLS, no
CREATEROLE), after the one-time statements a superuser runs for it: the application role
granted to it and the right to attach ``app.scope`` to the policies' helper functions.
"""

import json
import uuid

import pytest
from psycopg2 import errors, sql

from apps.core.backups import BackupError, Target, manage, table_row_counts
from apps.tenancy import rls
from apps.tenancy.scope import app_role

pytestmark = pytest.mark.django_db(transaction=True)


def superuser(database: str = "postgres"):  # type: ignore[no-untyped-def]
    connection = Target.from_settings().connect(database)
    connection.autocommit = True
    return connection


def as_role(role: str, database: str, *, platform: bool = False):  # type: ignore[no-untyped-def]
    base = Target.from_settings()
    connection = Target(database, role, "", base.host, base.port).connect(platform=platform)
    connection.autocommit = True
    return connection


def counts_as_superuser(database: str) -> dict[str, int]:
    connection = superuser(database)
    try:
        with connection.cursor() as cursor:
            return table_row_counts(cursor)
    finally:
        connection.close()


@pytest.fixture
def bare_role():
    """A role that may log in and nothing else: no grant of the application role."""
    name = f"fx_bare_{uuid.uuid4().hex[:8]}"
    admin = superuser()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(name)))
    yield name
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture
def owner():
    """An owner role and a database it owns, set up as a superuser would once; dropped after,
    with any database it restored into."""
    name = f"fx_owner_{uuid.uuid4().hex[:8]}"
    role, app = sql.Identifier(name), sql.Identifier(app_role())
    admin = superuser()
    with admin.cursor() as cursor:
        cursor.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS NOCREATEROLE").format(
                role
            )
        )
        cursor.execute(sql.SQL("GRANT {} TO {}").format(app, role))
        cursor.execute(sql.SQL("GRANT SET ON PARAMETER app.scope TO {}").format(role))
        cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))
    base = Target.from_settings()
    yield Target(name, name, "", base.host, base.port)
    with admin.cursor() as cursor:
        for database in (name, f"{name}_restored"):
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        cursor.execute(sql.SQL("REVOKE SET ON PARAMETER app.scope FROM {}").format(role))
        cursor.execute(sql.SQL("DROP ROLE {}").format(role))
    admin.close()


def test_an_owner_without_the_superusers_grants_is_told_what_to_run(bare_role):
    from django.conf import settings

    database = settings.DATABASES["default"]["NAME"]
    connection = as_role(bare_role, database)
    try:
        with connection.cursor() as cursor:
            with pytest.raises(rls.OwnerSetupMissing) as missing_setting:
                rls.ensure_scope_setting(cursor)
            with pytest.raises(rls.OwnerSetupMissing) as missing_role:
                rls.ensure_role(cursor, f"{app_role()}_never_made")
    finally:
        connection.close()

    assert str(missing_setting.value).endswith(
        f'run once, as a superuser: GRANT SET ON PARAMETER app.scope TO "{bare_role}";'
    )
    assert str(missing_role.value).endswith(
        f'run once, as a superuser: CREATE ROLE "{app_role()}_never_made" NOLOGIN NOBYPASSRLS '
        f'NOINHERIT; GRANT "{app_role()}_never_made" TO "{bare_role}";'
    )


@pytest.mark.slow
def test_an_owner_that_is_not_a_superuser_migrates_dumps_and_restores_every_row(owner, tmp_path):
    # given a database migrated and seeded by an owner that is not a superuser
    manage(["migrate", "--verbosity", "0"], owner)
    manage(["seed_demo", "--force"], owner)
    manage(["rls", "apply"], owner)
    every_row = counts_as_superuser(owner.name)
    assert every_row["orders_order"] > 0 and every_row["commissions_commissionrecord"] > 0

    # the owner itself is walled in: forced row-level security applies to it outside the platform
    connection = as_role(owner.user, owner.name)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_order")
            assert cursor.fetchone()[0] == 0
            # and the application role cannot turn the policies off
            cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(app_role())))
            cursor.execute(
                "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [app_role()]
            )
            assert cursor.fetchone() == (False, False)
            cursor.execute("SET app.scope = 'platform'")
            cursor.execute("SELECT min(merchant_id), count(*) FROM orders_order")
            first_merchant, orders = cursor.fetchone()
            assert orders == every_row["orders_order"]
            cursor.execute(
                "SELECT count(*) FROM orders_order WHERE merchant_id = %s", [first_merchant]
            )
            first_merchants_orders = cursor.fetchone()[0]
            cursor.execute("SET app.scope = ''")
            cursor.execute("SELECT set_config('app.merchant_id', %s, false)", [str(first_merchant)])
            cursor.execute("SELECT count(*), count(DISTINCT merchant_id) FROM orders_order")
            assert cursor.fetchone() == (first_merchants_orders, 1)
            cursor.execute("SET row_security = off")
            with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
                cursor.execute("SELECT count(*) FROM orders_order")
    finally:
        connection.close()

    # when it backs the database up and restores it elsewhere
    manage(["backup", "--dir", str(tmp_path)], owner)
    (manifest_path,) = tmp_path.glob("*.json")
    manifest = json.loads(manifest_path.read_text())
    manage(["restore", str(manifest_path), "--into", f"{owner.name}_restored"], owner)

    # then the dump held every row (counted by the superuser on both sides)
    assert manifest["row_security"] == "platform"
    assert manifest["row_counts"] == every_row
    assert counts_as_superuser(f"{owner.name}_restored") == every_row

    # and a table whose rows the platform scope could not see is refused, not dumped short
    connection = as_role(owner.user, owner.name, platform=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE hidden_rows (merchant_id bigint)")
            cursor.execute("INSERT INTO hidden_rows VALUES (1)")
            cursor.execute("ALTER TABLE hidden_rows ENABLE ROW LEVEL SECURITY")
            cursor.execute("ALTER TABLE hidden_rows FORCE ROW LEVEL SECURITY")
            cursor.execute("CREATE POLICY only_merchant_one ON hidden_rows USING (merchant_id = 1)")
    finally:
        connection.close()
    refused = tmp_path / "refused"
    with pytest.raises(BackupError, match="could not see every row of: hidden_rows"):
        manage(["backup", "--dir", str(refused)], owner)
    assert not list(refused.glob("*.dump"))
