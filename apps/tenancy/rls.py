"""Row-level security: the application role, its grants and the policies of every tenant table.

The policies are generated from the models: every table with a ``merchant_id`` column gets
``fenxiao_tenant`` (its merchant's rows, or any row in the platform scope), every table with a
``supplier_id`` column the supplier's equivalent; a few tables add the reads that cross tenants on
purpose (``EXTRA_POLICIES``: the supply catalogue merchants pick from, the orders a supplier ships).
``apply_all`` writes them (idempotent: the migration ``tenancy.0001`` and every ``manage.py
migrate`` run it, as the tables' owner); ``missing_policies`` lists tenant tables without them
(``manage.py rls check`` and tests/tenancy).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import DatabaseError, connection, transaction

SCHEMA = "public"
POLICY_PREFIX = "fenxiao_"

PLATFORM = "current_setting('app.scope', true) = 'platform'"
MERCHANT_ID = "nullif(current_setting('app.merchant_id', true), '')::bigint"
SUPPLIER_ID = "nullif(current_setting('app.supplier_id', true), '')::bigint"
USER_ID = "nullif(current_setting('app.user_id', true), '')::bigint"


@dataclass(frozen=True)
class Policy:
    table: str
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    using: str | None
    check: str | None = None

    def create_sql(self) -> str:
        sql = f'CREATE POLICY "{self.name}" ON "{self.table}" FOR {self.command}'
        if self.using is not None:
            sql += f" USING ({self.using})"
        if self.check is not None:
            sql += f" WITH CHECK ({self.check})"
        return sql


def _own(column: str) -> str:
    return f"{USER_ID} IS NOT NULL AND {column} = {USER_ID}"


# Reads (and the one write) that cross tenants on purpose, each saying exactly who may.
EXTRA_POLICIES: tuple[Policy, ...] = (
    # A signed-in person reads their own memberships (how a request finds its merchant/supplier)
    # and applications (before any merchant or supplier exists for them).
    Policy("merchants_merchantstaff", "fenxiao_own_membership", "SELECT", _own("user_id")),
    Policy("suppliers_supplierstaff", "fenxiao_own_membership", "SELECT", _own("user_id")),
    Policy(
        "merchants_merchantapplication",
        "fenxiao_own_application",
        "ALL",
        _own("applicant_id"),
        _own("applicant_id"),
    ),
    Policy(
        "suppliers_supplierapplication",
        "fenxiao_own_application",
        "ALL",
        _own("applicant_id"),
        _own("applicant_id"),
    ),
    # The supply catalogue: every merchant may read it (to pick from it); a merchant reserves and
    # gives back stock only of the supplied SKUs it sells (its own SKU names them).
    Policy(
        "suppliers_supplyproduct", "fenxiao_catalogue_read", "SELECT", f"{MERCHANT_ID} IS NOT NULL"
    ),
    Policy("suppliers_supplysku", "fenxiao_catalogue_read", "SELECT", f"{MERCHANT_ID} IS NOT NULL"),
    Policy(
        "suppliers_supplysku",
        "fenxiao_picked_stock",
        "UPDATE",
        f"{MERCHANT_ID} IS NOT NULL AND EXISTS (SELECT 1 FROM products_sku s "
        f"WHERE s.supply_sku_id = suppliers_supplysku.id AND s.merchant_id = {MERCHANT_ID})",
        f"{MERCHANT_ID} IS NOT NULL",
    ),
    # A supplier reads the orders (recipient, address) it has lines in, the journals its ledger
    # entries are in (its statement), the lines of its parcels, and the merchants' SKUs and
    # products picked from its catalogue.
    Policy(
        "orders_order",
        "fenxiao_supplier_read",
        "SELECT",
        f"{SUPPLIER_ID} IS NOT NULL AND EXISTS (SELECT 1 FROM orders_orderline l "
        f"WHERE l.order_id = orders_order.id AND l.supplier_id = {SUPPLIER_ID})",
    ),
    Policy(
        "commissions_journal",
        "fenxiao_supplier_read",
        "SELECT",
        f"{SUPPLIER_ID} IS NOT NULL AND EXISTS (SELECT 1 FROM commissions_ledgerentry e "
        f"WHERE e.journal_id = commissions_journal.id AND e.supplier_id = {SUPPLIER_ID})",
    ),
    Policy(
        "dropship_shipmentline",
        "fenxiao_supplier_read",
        "SELECT",
        f"{SUPPLIER_ID} IS NOT NULL AND EXISTS (SELECT 1 FROM dropship_shipment p "
        f"WHERE p.id = dropship_shipmentline.shipment_id AND p.supplier_id = {SUPPLIER_ID})",
    ),
    Policy(
        "products_sku",
        "fenxiao_supplier_read",
        "SELECT",
        # Through the function: supplysku's own stock policy reads products_sku, and a policy
        # may not read back a table whose policy is being expanded.
        f"{SUPPLIER_ID} IS NOT NULL AND products_sku.supply_sku_id IS NOT NULL "
        f"AND fenxiao_supply_sku_supplier(products_sku.supply_sku_id) = {SUPPLIER_ID}",
    ),
    Policy(
        "products_product",
        "fenxiao_supplier_read",
        "SELECT",
        f"{SUPPLIER_ID} IS NOT NULL AND EXISTS (SELECT 1 FROM products_sku s "
        "WHERE s.product_id = products_product.id AND s.supply_sku_id IS NOT NULL "
        f"AND fenxiao_supply_sku_supplier(s.supply_sku_id) = {SUPPLIER_ID})",
    ),
)


def tenant_tables() -> dict[str, set[str]]:
    """Every table of an installed model with a ``merchant_id`` or ``supplier_id`` column."""
    tables: dict[str, set[str]] = {}
    for model in apps.get_models(include_auto_created=True):
        if not model._meta.managed or model._meta.proxy:
            continue
        columns = {field.column for field in model._meta.concrete_fields if field.column}
        tenant_columns = columns & {"merchant_id", "supplier_id"}
        if tenant_columns:
            tables.setdefault(model._meta.db_table, set()).update(tenant_columns)
    return tables


def policies() -> list[Policy]:
    result: list[Policy] = []
    tables = tenant_tables()
    for table, columns in sorted(tables.items()):
        if "merchant_id" in columns:
            rule = f"{PLATFORM} OR merchant_id = {MERCHANT_ID}"
            result.append(Policy(table, "fenxiao_tenant", "ALL", rule, rule))
            if "supplier_id" in columns:
                # Rows of a merchant that a supplier fulfils (its order lines, its parcels): the
                # supplier reads them and updates them (ships), the merchant writes them.
                supplier = f"supplier_id = {SUPPLIER_ID}"
                result.append(Policy(table, "fenxiao_supplier_read", "SELECT", supplier))
                result.append(
                    Policy(table, "fenxiao_supplier_update", "UPDATE", supplier, supplier)
                )
        else:
            rule = f"{PLATFORM} OR supplier_id = {SUPPLIER_ID}"
            result.append(Policy(table, "fenxiao_tenant", "ALL", rule, rule))
    result.extend(policy for policy in EXTRA_POLICIES if policy.table in tables)
    return result


def _existing_tables(cursor) -> set[str]:  # type: ignore[no-untyped-def]
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA])
    return {row[0] for row in cursor.fetchall()}


def _quote_role(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


class OwnerSetupMissing(RuntimeError):
    """The tables' owner is not a superuser and lacks what only a superuser can give it; the
    message names the statements to run once, as a superuser."""


def _owner_facts(cursor) -> tuple[str, bool, bool, int]:  # type: ignore[no-untyped-def]
    cursor.execute(
        "SELECT current_user, rolsuper, rolcreaterole, current_setting('server_version_num')::int "
        "FROM pg_roles WHERE rolname = current_user"
    )
    return cursor.fetchone()


def _missing(owner: str, statements: list[str]) -> OwnerSetupMissing:
    return OwnerSetupMissing(
        f"the tables' owner {owner} is not a superuser and cannot set up row-level security "
        f"alone: run once, as a superuser: {' '.join(statements)}"
    )


def ensure_role(cursor, role: str) -> None:  # type: ignore[no-untyped-def]
    """The application role (NOLOGIN, NOBYPASSRLS, owns nothing), granted to the owner so that
    its sessions may ``SET ROLE`` to it; created once per cluster, safely when two databases
    migrate at once. An owner that is not a superuser (README, "Security model") needs the role
    made and granted to it beforehand unless it may create roles; it is told the statements."""
    quoted = _quote_role(role)
    literal = role.replace("'", "''")
    owner, is_superuser, creates_roles, version = _owner_facts(cursor)
    grant_statement = f"GRANT {quoted} TO {_quote_role(owner)};"
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    if cursor.fetchone() is None and not (is_superuser or creates_roles):
        raise _missing(
            owner, [f"CREATE ROLE {quoted} NOLOGIN NOBYPASSRLS NOINHERIT;", grant_statement]
        )
    cursor.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{literal}') THEN
                CREATE ROLE {quoted} NOLOGIN NOBYPASSRLS NOSUPERUSER NOINHERIT;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END
        $$;
        """
    )
    if is_superuser:
        return
    # PostgreSQL 16 tells membership from the right to SET ROLE (a role's creator is a member
    # with ADMIN OPTION only); before 16 a member may always SET ROLE.
    cursor.execute(
        "SELECT pg_has_role(current_user, %s, %s)", [role, "SET" if version >= 160000 else "MEMBER"]
    )
    if cursor.fetchone()[0]:
        return
    try:
        with transaction.atomic():
            cursor.execute(f"GRANT {quoted} TO current_user")
    except DatabaseError as error:
        raise _missing(owner, [grant_statement]) from error


def ensure_scope_setting(cursor) -> None:  # type: ignore[no-untyped-def]
    """The policies' helper functions run with ``app.scope`` set to the platform (``SET`` on the
    function); from PostgreSQL 15 a role that is not a superuser may attach that setting only
    once granted it."""
    owner, is_superuser, _creates_roles, version = _owner_facts(cursor)
    if is_superuser or version < 150000:
        return
    cursor.execute("SELECT has_parameter_privilege('app.scope', 'SET')")
    if not cursor.fetchone()[0]:
        raise _missing(owner, [f"GRANT SET ON PARAMETER app.scope TO {_quote_role(owner)};"])


def grant(cursor, role: str) -> None:  # type: ignore[no-untyped-def]
    """What the application may do: rows of every table (through the policies), sequences; the
    same for tables later migrations create (default privileges of the owner)."""
    quoted = _quote_role(role)
    tables = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES"
    cursor.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {quoted}")
    cursor.execute(f"GRANT {tables} ON ALL TABLES IN SCHEMA {SCHEMA} TO {quoted}")
    cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {SCHEMA} TO {quoted}")
    cursor.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} GRANT {tables} ON TABLES TO {quoted}"
    )
    cursor.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {quoted}"
    )


def _definer_function(cursor, role: str, signature: str, returns: str, body: str) -> None:  # type: ignore[no-untyped-def]
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {signature} RETURNS {returns} LANGUAGE sql STABLE "
        "SECURITY DEFINER SET search_path = public SET app.scope = 'platform' "
        f"AS $$ {body} $$"
    )
    cursor.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")
    cursor.execute(f"GRANT EXECUTE ON FUNCTION {signature} TO {_quote_role(role)}")


def _create_functions(cursor, role: str, existing: set[str]) -> None:  # type: ignore[no-untyped-def]
    """The few facts that cross tenants, each read as the owner in the platform scope and
    answering only that fact: the supplier of a supplied SKU (for the suppliers' policies), and the
    next distributor tree id (ids are unique across merchants' trees)."""
    if "distributors_distributor" in existing:
        _definer_function(
            cursor,
            role,
            "fenxiao_next_tree_id()",
            "bigint",
            "SELECT coalesce(max(tree_id), 0) + 1 FROM distributors_distributor",
        )
    if "suppliers_supplysku" not in existing:
        return
    cursor.execute(
        """
        CREATE OR REPLACE FUNCTION fenxiao_supply_sku_supplier(supply_sku bigint) RETURNS bigint
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public SET app.scope = 'platform'
        AS $$ SELECT supplier_id FROM suppliers_supplysku WHERE id = supply_sku $$
        """
    )
    cursor.execute("REVOKE ALL ON FUNCTION fenxiao_supply_sku_supplier(bigint) FROM PUBLIC")
    cursor.execute(
        f"GRANT EXECUTE ON FUNCTION fenxiao_supply_sku_supplier(bigint) TO {_quote_role(role)}"
    )


def apply_all(role: str) -> int:
    """Role, grants and every policy, as the tables' owner. Returns how many tables it secured."""
    wanted = policies()
    with connection.cursor() as cursor:
        ensure_role(cursor, role)
        grant(cursor, role)
        existing = _existing_tables(cursor)
        by_table: dict[str, list[Policy]] = {}
        for policy in wanted:
            if policy.table in existing:
                by_table.setdefault(policy.table, []).append(policy)
        cursor.execute(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = %s "
            "AND policyname LIKE %s",
            [SCHEMA, POLICY_PREFIX + "%"],
        )
        present = cursor.fetchall()
        for table, name in present:
            cursor.execute(f'DROP POLICY "{name}" ON "{table}"')
        ensure_scope_setting(cursor)
        _create_functions(cursor, role, existing)
        for table, table_policies in by_table.items():
            cursor.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
            cursor.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
            for policy in table_policies:
                cursor.execute(policy.create_sql())
    return len(by_table)


def remove_all() -> None:
    """Undo ``apply_all``'s policies (the migration's reverse); the role stays (other databases
    of the cluster may use it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = %s "
            "AND policyname LIKE %s",
            [SCHEMA, POLICY_PREFIX + "%"],
        )
        rows = cursor.fetchall()
        for table, name in rows:
            cursor.execute(f'DROP POLICY "{name}" ON "{table}"')
        for table in {table for table, _name in rows}:
            cursor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
            cursor.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


def missing_policies() -> list[str]:
    """Tables with a ``merchant_id``/``supplier_id`` column in the database that lack their
    ``fenxiao_tenant`` policy or forced row-level security (a table added without ``migrate``'s
    step, or by hand)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND c.relkind IN ('r', 'p')
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                          AND a.attname IN ('merchant_id', 'supplier_id') AND NOT a.attisdropped)
              AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                       AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid
                                   AND p.polname = 'fenxiao_tenant'))
            ORDER BY c.relname
            """,
            [SCHEMA],
        )
        return [row[0] for row in cursor.fetchall()]
