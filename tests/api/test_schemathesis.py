"""Schemathesis over the whole OpenAPI schema, as a merchant's staff, a distributor and a consumer:
no server error, and every answer (status code, content type, body) as the schema documents it.

A small number of generated requests per operation here (``SCHEMATHESIS_EXAMPLES``, 3 by
default); ``make schemathesis`` runs the same test with more. Each failure is collected (not
shrunk) and all are shown at the end, one line each.
"""

import contextlib
import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from rest_framework.authtoken.models import Token
from schemathesis.generation.modes import GenerationMode

from config.wsgi import application

from .conftest import build_store

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "3"))
# A request the schema allows may still break a business rule (a refund of an order that cannot
# be refunded, a sign-in with the wrong password): those answers are documented 400/409s, not
# failures, so "schema-valid data must be accepted" is left out.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]


def _summary(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup):
        return " | ".join(_summary(inner) for inner in error.exceptions)
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return f"{type(error).__name__}: {' '.join(lines[:4])}"[:400]


@pytest.fixture
def wsgi_in_the_test_transaction():
    """Requests go straight to the WSGI application; like Django's test client, keep it from
    closing the test's connection (and its transaction) at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def tokens() -> dict[str, str]:
    store = build_store()
    users = {
        "staff": store.staff,
        "distributor": store.distributors[1].user,
        "consumer": store.customer,
    }
    return {role: Token.objects.create(user=user).key for role, user in users.items()}


def run_operation(operation, mode, headers: dict[str, str], failures: list[str]) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def one(case) -> None:
        try:
            case.call_and_validate(headers=headers, excluded_checks=EXCLUDED_CHECKS)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: BLE001 - every failure is collected and reported
            failures.append(f"{operation.label}: {_summary(error)}")

    # Unsatisfiable: nothing to get wrong (negative mode, an operation without parameters or body)
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        one()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", ["staff", "distributor", "consumer"])
def test_every_operation_answers_as_documented(role, mode, settings, wsgi_in_the_test_transaction):
    """Positive: requests the schema allows. Negative: requests it forbids (a ``page`` that is
    not a number, a missing field…), which must be refused with a documented 4xx."""
    settings.ALLOWED_HOSTS = ["*"]
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    headers = {"Authorization": f"Token {tokens()[role]}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        run_operation(operation, mode, headers, failures)

    assert operations > 100
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
