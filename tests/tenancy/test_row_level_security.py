"""Row-level security: the database's own wall between merchants (apps/tenancy).

These tests leave the suite's default (test code in the platform scope, tests/conftest.py) where
they need to see the walls themselves: ``walls`` takes the default away, so a connection outside
every scope is exactly what a forgotten scope would be in production.
"""

import logging

import pytest
from celery import current_app
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils.module_loading import import_string

from apps.products.models import Product
from apps.suppliers.models import Supplier, SupplierStaff
from apps.tenancy import rls
from apps.tenancy.middleware import TenantScopeMiddleware, request_scope
from apps.tenancy.scope import (
    MERCHANT,
    NONE,
    PLATFORM,
    SUPPLIER,
    USER,
    Scope,
    ScopeMissing,
    no_scope,
    owner_connection,
    platform_scope,
    set_process_default,
    supplier_scope,
    tenant_scope,
)
from apps.tenancy.tasks import HEADER, carry_scope
from tests.factories import MerchantFactory, MerchantStaffFactory, ProductFactory, UserFactory
from tests.support.cursors import counting_cursors

pytestmark = pytest.mark.django_db


@pytest.fixture
def walls():
    set_process_default(None)
    yield
    set_process_default(Scope(kind=PLATFORM, reason="test code"))


@pytest.fixture
def two_stores(db):
    first, second = MerchantFactory(), MerchantFactory()
    ProductFactory(merchant=first, name="first's tea")
    ProductFactory(merchant=second, name="second's honey")
    ProductFactory(merchant=second, name="second's jam")
    return first, second


def raw_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        return cursor.fetchone()[0]


def settings_now() -> tuple[str, str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.scope', true), current_setting('app.merchant_id', true),"
            " current_setting('app.supplier_id', true), current_setting('app.user_id', true)"
        )
        return tuple(value or "" for value in cursor.fetchone())


def test_the_application_role_owns_nothing_and_cannot_bypass_the_policies():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        role, is_superuser, bypasses = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user")
        owned = cursor.fetchone()[0]
    assert (role, is_superuser, bypasses, owned) == ("fenxiao_app", False, False, 0)


def test_every_tenant_table_has_forced_row_level_security_and_its_policy():
    tables = rls.tenant_tables()
    assert "orders_order" in tables and "suppliers_supplysku" in tables
    assert rls.missing_policies() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity "
            "AND relname = ANY(%s)",
            [list(tables)],
        )
        forced = {row[0] for row in cursor.fetchall()}
    assert forced == set(tables)


def test_a_tenant_table_added_without_its_policy_is_reported():
    with owner_connection("test: a table without policy"), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE rls_probe_unsecured (id bigint, merchant_id bigint)")
        missing = rls.missing_policies()
        cursor.execute("DROP TABLE rls_probe_unsecured")
    assert missing == ["rls_probe_unsecured"]


def test_raw_sql_without_a_scope_sees_no_row(two_stores, walls):
    with platform_scope(reason="test: count everything"):
        everything = raw_count("products_product")
    assert everything == 3
    assert raw_count("products_product") == 0
    with no_scope():
        assert raw_count("products_product") == 0
        assert Product.objects.count() == 0


def test_a_merchant_scope_sees_and_writes_only_its_own_rows(two_stores, walls):
    first, second = two_stores
    with tenant_scope(first):
        assert list(Product.objects.values_list("name", flat=True)) == ["first's tea"]
        assert raw_count("products_product") == 1
        assert Product.objects.filter(merchant=second).update(name="stolen") == 0
        assert Product.objects.filter(merchant=second).delete()[0] == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Product.objects.create(merchant=second, name="planted", description="")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Product.objects.filter(merchant=first).update(merchant=second)
    with tenant_scope(second):
        assert sorted(Product.objects.values_list("name", flat=True)) == [
            "second's honey",
            "second's jam",
        ]


def test_a_scope_ends_with_its_block_and_restores_the_one_before(two_stores, walls):
    first, second = two_stores
    with tenant_scope(first):
        with tenant_scope(second):
            assert settings_now() == ("", str(second.pk), "", "")
        assert settings_now() == ("", str(first.pk), "", "")
    assert settings_now() == ("", "", "", "")
    with pytest.raises(RuntimeError), tenant_scope(first):
        raise RuntimeError("the view failed")
    assert settings_now() == ("", "", "", "")


@pytest.mark.django_db(transaction=True)
def test_a_connection_opened_inside_a_scope_gets_it(walls):
    with platform_scope(reason="test: a store"):
        first = MerchantFactory()
    connection.close()
    with tenant_scope(first):
        assert connection.connection is None
        assert settings_now() == ("", str(first.pk), "", "")
    assert settings_now() == ("", "", "", "")


def test_the_platform_scope_is_logged_with_its_reason(two_stores, walls, caplog):
    with (
        caplog.at_level(logging.INFO, logger="fenxiao.scope"),
        platform_scope(reason="test: operator report", user=7),
    ):
        assert raw_count("products_product") == 3
    assert [record.getMessage() for record in caplog.records] == [
        "platform scope: test: operator report (user 7)"
    ]
    with pytest.raises(ValueError):
        platform_scope(reason="")


def test_a_supplier_reads_the_catalogue_it_supplies_only(walls):
    with platform_scope(reason="test: build suppliers"):
        honey = Supplier.objects.create(name="Honey", slug="honey-rls", status="active")
        other = Supplier.objects.create(name="Other", slug="other-rls", status="active")
    with supplier_scope(honey):
        assert list(Supplier.objects.values_list("slug", flat=True).order_by("slug")) == [
            "honey-rls",
            "other-rls",
        ]  # the suppliers themselves are public, like the merchants
        assert raw_count("suppliers_supplierstaff") == 0
    with platform_scope(reason="test: staff"):
        SupplierStaff.objects.create(supplier=other, user=UserFactory())
    with supplier_scope(honey):
        assert SupplierStaff.objects.count() == 0
    with supplier_scope(other):
        assert SupplierStaff.objects.count() == 1


# -- requests --------------------------------------------------------------------------------


@pytest.fixture
def factory():
    return RequestFactory()


def _scope_of(request) -> Scope:
    with request_scope(request) as scope:
        return scope


def test_a_store_request_runs_in_its_merchant(factory, two_stores):
    first, _second = two_stores
    scope = _scope_of(factory.get(f"/s/{first.slug}/"))
    assert (scope.kind, scope.merchant_id) == (MERCHANT, first.pk)
    api = _scope_of(factory.get(f"/api/v1/stores/{first.slug}/products/"))
    assert (api.kind, api.merchant_id) == (MERCHANT, first.pk)
    assert _scope_of(factory.get("/s/no-such-store/")).kind == NONE


def test_staff_run_in_their_merchant_and_the_operator_in_the_logged_platform(
    factory, two_stores, caplog
):
    first, _second = two_stores
    staff = MerchantStaffFactory(merchant=first).user
    request = factory.get("/admin/products/product/")
    request.user = staff
    scope = _scope_of(request)
    assert (scope.kind, scope.merchant_id, scope.user_id) == (MERCHANT, first.pk, staff.pk)

    operator = UserFactory(is_superuser=True, is_staff=True)
    request = factory.get("/admin/merchants/merchant/")
    request.user = operator
    with caplog.at_level(logging.INFO, logger="fenxiao.scope"):
        scope = _scope_of(request)
    assert scope.kind == PLATFORM
    assert f"platform scope: operator: GET /admin/merchants/merchant/ (user {operator.pk})" in [
        record.getMessage() for record in caplog.records
    ]

    consumer = UserFactory()
    request = factory.get("/admin/")
    request.user = consumer
    assert (_scope_of(request).kind, _scope_of(request).user_id) == (USER, consumer.pk)


def test_supplier_staff_run_in_their_supplier(factory):
    supplier = Supplier.objects.create(name="Honey", slug="honey-req", status="active")
    user = UserFactory(is_staff=True)
    SupplierStaff.objects.create(supplier=supplier, user=user)
    request = factory.get("/api/v1/supplier/products/")
    request.user = user
    scope = _scope_of(request)
    assert (scope.kind, scope.supplier_id) == (SUPPLIER, supplier.pk)


def test_a_store_scope_is_written_by_the_stores_lookup_itself(two_stores, walls):
    from apps.tenancy.middleware import store_scope

    first, _second = two_stores
    user = UserFactory()
    with counting_cursors() as statements:
        with store_scope(first.slug, user=user.pk) as scope:
            written = statements.cursors
            inside = settings_now()
            products = raw_count("products_product")
        after = settings_now()
        with store_scope("no-such-store") as unknown:
            unknown_settings = settings_now()

    assert (scope.kind, scope.merchant_id, scope.user_id) == (MERCHANT, first.pk, user.pk)
    assert written == 1  # the lookup and the scope's settings: one statement
    assert inside == ("", str(first.pk), "", str(user.pk))
    assert products == 1  # first's tea only
    assert after == ("", "", "", "")
    assert unknown.kind == NONE and unknown_settings == ("", "", "", "")


def test_a_request_leaves_the_connection_without_its_scope(client, two_stores):
    first, _second = two_stores
    response = client.get(f"/s/{first.slug}/")
    assert response.status_code == 200
    # Back to the test code's own (platform) scope: nothing of the store's is left.
    assert settings_now() == ("platform", "", "", "")


def test_a_view_runs_in_its_request_scope(client, two_stores, monkeypatch):
    """While the store's view runs, the database session itself sees only that store's rows."""
    _first, second = two_stores
    seen = []
    original = TenantScopeMiddleware.__call__

    def recording(self, request):  # type: ignore[no-untyped-def]
        inner = self.get_response

        def get_response(inner_request):  # type: ignore[no-untyped-def]
            seen.append(raw_count("products_product"))
            return inner(inner_request)

        self.get_response = get_response
        try:
            return original(self, request)
        finally:
            self.get_response = inner

    monkeypatch.setattr(TenantScopeMiddleware, "__call__", recording)
    assert client.get(f"/s/{second.slug}/").status_code == 200
    assert seen == [2]
    assert raw_count("products_product") == 3  # the test code's platform scope again


# -- tasks -----------------------------------------------------------------------------------


@current_app.task(name="tests.tenancy.scope_probe", bind=True)
def scope_probe(self) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('app.scope', true), current_setting('app.merchant_id', true)"
        )
        return tuple(value or "" for value in cursor.fetchone())


@current_app.task(name="tests.tenancy.platform_probe", platform_scope="test: a platform job")
def platform_probe() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.scope', true)")
        return cursor.fetchone()[0]


def _run_as_worker(task, headers=None):  # type: ignore[no-untyped-def]
    """Call the task as the worker does: a request of its own, not called directly, not eager."""
    task.push_request(called_directly=False, is_eager=False, **(headers or {}))
    try:
        return task()
    finally:
        task.pop_request()


def test_a_task_without_a_scope_fails_loudly(walls):
    with pytest.raises(ScopeMissing, match="tests.tenancy.scope_probe carries no"):
        _run_as_worker(scope_probe)
    with no_scope(), pytest.raises(ScopeMissing):
        scope_probe.apply(throw=True)


def test_a_task_runs_in_the_scope_its_message_carries(two_stores, walls):
    first, _second = two_stores
    headers: dict = {}
    with tenant_scope(first):
        carry_scope(headers=headers)
    assert headers[HEADER]["merchant_id"] == first.pk
    assert _run_as_worker(scope_probe, headers) == ("", str(first.pk))
    assert settings_now() == ("", "", "", "")
    with tenant_scope(first):
        assert scope_probe.apply(throw=True).get() == ("", str(first.pk))


def test_a_platform_job_declares_its_scope_and_is_logged(walls, caplog):
    with caplog.at_level(logging.INFO, logger="fenxiao.scope"):
        assert _run_as_worker(platform_probe) == "platform"
    assert [record.getMessage() for record in caplog.records] == [
        "platform scope: task tests.tenancy.platform_probe: test: a platform job (user -)"
    ]


def test_every_beat_job_declares_the_platform_scope():
    from django.conf import settings

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        task = import_string(entry["task"])
        assert task.platform_scope, entry["task"]


def _connect_as_app(name: str) -> None:
    """Open (and close) a connection to the database ``name`` as the application would."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    wrapper = DatabaseWrapper({**connection.settings_dict, "NAME": name}, alias="rls-probe")
    try:
        wrapper.ensure_connection()
    finally:
        wrapper.close()


@pytest.mark.django_db(transaction=True)
def test_without_its_role_a_migrated_database_refuses_to_connect_but_a_fresh_one_may():
    from django.core.exceptions import ImproperlyConfigured
    from django.test import override_settings

    fresh = f"{connection.settings_dict['NAME']}_fresh_probe"
    with owner_connection("create an empty database"), connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        cursor.execute(f'CREATE DATABASE "{fresh}"')
    try:
        with override_settings(FENXIAO_DB_APP_ROLE="fenxiao_role_nobody_created"):
            # the suite's migrated database: without the role it would be read as the owner
            with pytest.raises(ImproperlyConfigured, match="does not exist yet"):
                _connect_as_app(connection.settings_dict["NAME"])
            # nothing migrated into it yet (makemigrations --check before the first migrate)
            _connect_as_app(fresh)
    finally:
        with owner_connection("drop the empty database"), connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
