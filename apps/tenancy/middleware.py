"""Each request runs in one scope, chosen from its address and its person (README, "Row-level
security"): a store's pages and API (``/s/<store>/``, ``/api/v1/stores/<store>/``) in that
store's merchant; the back office (``/admin/``, ``/api/v1/merchant/``, ``/api/v1/supplier/``) in
the merchant or supplier its staff member works for, and the operator's in the platform scope
(logged); the payment providers' callbacks (``/pay/``) in the platform scope; anything else in
the signed-in person's own scope. Resolving the scope reads only the merchant, staff and token
tables, through the driver's connection, so a page's query count is what its own code asks for.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

from apps.merchants.models import Merchant, MerchantStaff

from . import scope as scopes

# Other kinds of staff (suppliers', registered by their app: it stands above this one): a function
# (user id) -> the id of the tenant they work for, or None.
_supplier_resolvers: list[Callable[[int], int | None]] = []


def register_supplier_resolver(resolver: Callable[[int], int | None]) -> None:
    if resolver not in _supplier_resolvers:
        _supplier_resolvers.append(resolver)


def raw_row(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    """One row read on the driver's connection (not counted among the page's queries)."""
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _staff_merchant_id(user_id: int) -> int | None:
    row = raw_row(
        f'SELECT m.id FROM "{Merchant._meta.db_table}" m '
        f'JOIN "{MerchantStaff._meta.db_table}" s ON s.merchant_id = m.id '
        "WHERE s.user_id = %s AND m.status = %s ORDER BY m.id LIMIT 1",
        [user_id, Merchant.Status.ACTIVE],
    )
    return row[0] if row else None


def store_scope(slug: str, user: Any = None) -> AbstractContextManager[scopes.Scope]:
    """The scope of a store's pages, API and live room sockets: its merchant's, or nothing for an
    unknown (or inactive) store, whose views answer 404. The store's lookup writes the scope."""
    found = scopes.tenant_scope_found(
        f'SELECT id FROM "{Merchant._meta.db_table}" WHERE slug = %s AND status = %s',
        [slug, Merchant.Status.ACTIVE],
        user=user,
    )
    if found is None:
        return scopes.user_scope(user) if user else scopes.no_scope()
    return found  # type: ignore[no-any-return]


def _person(request: HttpRequest) -> tuple[int | None, bool]:
    """(user id, is an active superuser) of the request: its API token's user, else its session's."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Token "):
        row = raw_row(
            "SELECT u.id, u.is_superuser AND u.is_active FROM authtoken_token t "
            "JOIN accounts_user u ON u.id = t.user_id WHERE t.key = %s AND u.is_active",
            [header[len("Token ") :].strip()],
        )
        return (row[0], bool(row[1])) if row else (None, False)
    # DRF's test client authenticates this way (force_authenticate); its views read it too.
    user = getattr(request, "_force_auth_user", None) or getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None, False
    return user.pk, bool(user.is_superuser)


def _store_slug(path: str) -> str | None:
    for prefix in ("/s/", "/api/v1/stores/"):
        if path.startswith(prefix):
            return path[len(prefix) :].split("/", 1)[0] or None
    return None


APPLICATION_PREFIXES = (
    "/merchants/apply/",
    "/suppliers/apply/",
    "/api/v1/merchant-applications/",
    "/api/v1/supplier-applications/",
)
# Sign-in by token checks the person's memberships (two-factor requirement) before anyone is
# signed in: a scope that hid them would skip the check.
SIGN_IN_PREFIXES = ("/api/v1/auth/token/",)
BACK_OFFICE_PREFIXES = ("/admin/", "/api/v1/merchant/", "/api/v1/supplier/")


def request_scope(request: HttpRequest) -> AbstractContextManager[scopes.Scope]:
    path = request.path_info
    slug = _store_slug(path)
    if slug is not None:
        # With the person, whose own memberships stay visible (the two-factor requirement of a
        # merchant's staff holds on every page).
        return store_scope(slug, user=_person(request)[0])
    if path.startswith("/pay/"):
        return scopes.platform_scope(reason=f"payment provider: {request.method} {path}")
    if path.startswith(SIGN_IN_PREFIXES):
        return scopes.platform_scope(reason=f"sign-in: {request.method} {path}")
    if path.startswith(APPLICATION_PREFIXES):
        # The forms that create a merchant's or supplier's application, often together with the
        # applicant's account: no tenant exists yet, and the operator reviews what they write.
        return scopes.platform_scope(reason=f"application form: {request.method} {path}")
    user_id, is_operator = _person(request)
    if user_id is None:
        return scopes.no_scope()
    if path.startswith(BACK_OFFICE_PREFIXES):
        if is_operator:
            return scopes.platform_scope(reason=f"operator: {request.method} {path}", user=user_id)
        with scopes.user_scope(user_id):
            merchant_id = (
                None if path.startswith("/api/v1/supplier/") else _staff_merchant_id(user_id)
            )
            supplier_id = None
            if merchant_id is None:
                for resolver in _supplier_resolvers:
                    supplier_id = resolver(user_id)
                    if supplier_id:
                        break
        if merchant_id:
            return scopes.tenant_scope(merchant_id=merchant_id, user=user_id)
        if supplier_id:
            return scopes.supplier_scope(supplier_id=supplier_id, user=user_id)
    return scopes.user_scope(user_id)


def _scoped_stream(scope: scopes.Scope, content: Iterable[bytes]) -> Iterator[bytes]:
    with scopes.scoped(scope):
        yield from content


class TenantScopeMiddleware:
    """Runs the view (and a streamed response's rows) in the request's scope; the scope ends with
    the response, so the connection goes back to the pool with empty settings."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not scopes.rls_enforced():
            return self.get_response(request)
        with request_scope(request) as scope:
            request.tenant_scope = scope  # type: ignore[attr-defined]
            response = self.get_response(request)
        if getattr(response, "streaming", False):
            response.streaming_content = _scoped_stream(scope, response.streaming_content)  # type: ignore[attr-defined]
        return response
