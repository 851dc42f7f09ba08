"""Recruitment modes, the anti-pyramid rule, binding rules (锁客) and the fraud guards."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.commissions.models import CommissionPlan, CommissionRecord
from apps.commissions.services import commission_settle_orders
from apps.core.errors import Conflict, DomainError, NotFound
from apps.distributors.guards import (
    fraud_check_binding,
    fraud_check_signup,
    fraud_flag_dismiss,
    fraud_flag_suspend,
)
from apps.distributors.models import (
    BindingChange,
    CustomerBinding,
    Distributor,
    DistributorApplication,
    FraudFlag,
    ProgrammeSettings,
    Tier,
)
from apps.distributors.recruitment import (
    application_approve,
    application_reject,
    application_submit,
    distributor_appoint,
    programme_settings_update,
    user_find_for_appointment,
)
from apps.distributors.services import distributor_join
from apps.ledger.models import Wallet
from apps.orders.models import Order
from apps.orders.services import order_place
from apps.payments.models import Payment
from apps.programme.binding import customer_bind
from apps.programme.threshold import threshold_grant_if_reached, threshold_sweep
from tests.factories import SkuFactory, UserFactory
from tests.services.flows import RECIPIENT, bind, completed_order, paid_order, place

Q = Distributor.Qualification


def apply_mode(merchant, questions=("Why?", "Where do you sell?")):
    programme_settings_update(
        merchant=merchant, recruitment_mode="application", application_questions=list(questions)
    )


# --- Recruitment modes ------------------------------------------------------------------------


def test_everyone_mode_joins_and_records_the_qualification(merchant):
    distributor = distributor_join(merchant=merchant, user=UserFactory())
    assert distributor.qualification == Q.EVERYONE


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("application", "recruitment_application"),
        ("appointed", "recruitment_appointed"),
        ("threshold", "recruitment_threshold"),
    ],
)
def test_storefront_join_is_refused_outside_everyone_mode(merchant, mode, code):
    values = {"recruitment_mode": mode}
    if mode == "threshold":
        values["spend_threshold"] = "500.00"
    programme_settings_update(merchant=merchant, **values)

    with pytest.raises(DomainError) as refused:
        distributor_join(merchant=merchant, user=UserFactory())

    assert refused.value.code == code
    assert Distributor.objects.filter(merchant=merchant).count() == 0


def test_application_approved_places_the_applicant_under_the_inviter(merchant, chain, staff_user):
    apply_mode(merchant)
    applicant = UserFactory()
    application = application_submit(
        merchant=merchant,
        user=applicant,
        answers=["I love tea", "WeChat"],
        invite_code=chain[1].invite_code.lower(),
    )
    assert application.answers == [
        {"question": "Why?", "answer": "I love tea"},
        {"question": "Where do you sell?", "answer": "WeChat"},
    ]

    distributor = application_approve(application=application, reviewer=staff_user)

    distributor.refresh_from_db()
    application.refresh_from_db()
    assert (distributor.parent_id, distributor.qualification) == (chain[1].pk, Q.APPLICATION)
    assert (application.status, application.reviewed_by_id) == ("approved", staff_user.pk)
    assert application.distributor_id == distributor.pk
    with pytest.raises(Conflict):
        application_approve(application=application, reviewer=staff_user)


def test_one_pending_application_per_user_and_reapply_after_rejection(merchant, staff_user):
    apply_mode(merchant, questions=["Why?"])
    applicant = UserFactory()
    first = application_submit(merchant=merchant, user=applicant, answers=["Because"])
    with pytest.raises(Conflict) as pending:
        application_submit(merchant=merchant, user=applicant, answers=["Again"])
    assert pending.value.code == "application_pending"

    with pytest.raises(DomainError):
        application_reject(application=first, reviewer=staff_user, reason="  ")
    application_reject(application=first, reviewer=staff_user, reason="Too new")
    first.refresh_from_db()
    assert (first.status, first.reject_reason) == ("rejected", "Too new")
    with pytest.raises(Conflict):
        application_approve(application=first, reviewer=staff_user)

    second = application_submit(merchant=merchant, user=applicant, answers=["Please"])
    assert DistributorApplication.objects.filter(user=applicant).count() == 2
    assert second.status == "pending"
    assert not Distributor.objects.filter(merchant=merchant, user=applicant).exists()


@pytest.mark.parametrize("answers", [[], ["only one"], ["", "x"], ["x" * 501, "y"]])
def test_application_needs_every_answer(merchant, answers):
    apply_mode(merchant)
    with pytest.raises(DomainError):
        application_submit(merchant=merchant, user=UserFactory(), answers=answers)
    assert DistributorApplication.objects.count() == 0


def test_applications_are_refused_outside_application_mode(merchant):
    with pytest.raises(DomainError) as refused:
        application_submit(merchant=merchant, user=UserFactory(), answers=[])
    assert refused.value.code == "applications_closed"


def test_appointed_mode_only_staff_appoint(merchant, chain):
    programme_settings_update(merchant=merchant, recruitment_mode="appointed")
    user = UserFactory(phone="13912345678")
    with pytest.raises(DomainError):
        distributor_join(merchant=merchant, user=user)

    found = user_find_for_appointment(lookup="13912345678")
    distributor = distributor_appoint(
        merchant=merchant, user=found, invite_code=chain[0].invite_code
    )

    distributor.refresh_from_db()
    assert (distributor.user_id, distributor.parent_id) == (user.pk, chain[0].pk)
    assert distributor.qualification == Q.APPOINTED
    with pytest.raises(Conflict):
        distributor_appoint(merchant=merchant, user=user)
    with pytest.raises(NotFound):
        user_find_for_appointment(lookup="1391234")  # no partial matches


def test_threshold_is_granted_by_the_order_that_crosses_it(merchant, customer, chain):
    # given a 250.00 threshold and a customer bound to chain[2]
    programme_settings_update(
        merchant=merchant, recruitment_mode="threshold", spend_threshold="250"
    )
    bind(merchant=merchant, customer=customer, distributor=chain[2])
    sku = SkuFactory(product__merchant=merchant, price=Decimal("100.00"))
    first = paid_order(merchant=merchant, customer=customer, lines=[(sku, 2)])
    assert threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=customer.pk) is None
    unpaid = place(merchant=merchant, customer=customer, lines=[(sku, 5)])  # placed, never paid
    assert threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=customer.pk) is None

    # when the order taking the paid total from 200.00 to exactly 250.00 is paid
    cheap = SkuFactory(product__merchant=merchant, price=Decimal("50.00"))
    crossing = paid_order(merchant=merchant, customer=customer, lines=[(cheap, 1)])
    distributor = threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=customer.pk)

    # then they are a distributor under the distributor they are bound to, qualified by that order
    assert distributor is not None
    distributor.refresh_from_db()
    assert (distributor.qualification, distributor.qualifying_order_id) == (
        Q.THRESHOLD,
        crossing.pk,
    )
    assert distributor.parent_id == chain[2].pk
    assert first.pk != crossing.pk and unpaid.status == Order.Status.PENDING_PAYMENT
    # and raising the threshold later never revokes it
    programme_settings_update(merchant=merchant, spend_threshold="10000")
    assert threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=customer.pk) is None
    assert Distributor.objects.get(pk=distributor.pk).status == Distributor.Status.ACTIVE


def test_paying_enqueues_the_threshold_check_only_in_threshold_mode(
    merchant, customer, django_capture_on_commit_callbacks
):
    sku = SkuFactory(product__merchant=merchant, price=Decimal("300.00"))
    with django_capture_on_commit_callbacks() as callbacks:
        paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    everyone_callbacks = len(callbacks)
    programme_settings_update(merchant=merchant, recruitment_mode="threshold", spend_threshold="1")
    with django_capture_on_commit_callbacks() as callbacks:
        paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])
    assert len(callbacks) == everyone_callbacks + 1


def test_threshold_sweep_grants_what_the_payment_hook_missed(merchant, other_merchant):
    programme_settings_update(
        merchant=merchant, recruitment_mode="threshold", spend_threshold="100"
    )
    buyers = UserFactory.create_batch(3)
    sku = SkuFactory(product__merchant=merchant, price=Decimal("100.00"))
    paid_order(merchant=merchant, customer=buyers[0], lines=[(sku, 1)])
    paid_order(merchant=merchant, customer=buyers[1], lines=[(sku, 2)])
    place(merchant=merchant, customer=buyers[2], lines=[(sku, 3)])
    other_sku = SkuFactory(product__merchant=other_merchant, price=Decimal("900.00"))
    paid_order(merchant=other_merchant, customer=buyers[2], lines=[(other_sku, 1)])

    assert threshold_sweep() == 2
    assert threshold_sweep() == 0
    assert set(Distributor.objects.filter(merchant=merchant).values_list("user_id", flat=True)) == {
        buyers[0].pk,
        buyers[1].pk,
    }
    assert not Distributor.objects.filter(merchant=other_merchant).exists()


# --- Anti-pyramid -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["everyone", "application", "appointed", "threshold"])
def test_becoming_a_distributor_never_costs_money(merchant, staff_user, mode):
    """No path to becoming a distributor creates an order or a payment, in any mode; and the
    programme has three commission levels at most (the order snapshot holds three)."""
    values = {"recruitment_mode": mode, "application_questions": ["Why?"]}
    if mode == "threshold":
        values["spend_threshold"] = "1.00"
    programme_settings_update(merchant=merchant, **values)
    orders, payments = Order.objects.count(), Payment.objects.count()
    user = UserFactory()

    if mode == "everyone":
        distributor_join(merchant=merchant, user=user)
    elif mode == "application":
        application = application_submit(merchant=merchant, user=user, answers=["x"])
        application_approve(application=application, reviewer=staff_user)
    elif mode == "appointed":
        distributor_appoint(merchant=merchant, user=user)
    else:
        assert threshold_grant_if_reached(merchant_id=merchant.pk, customer_id=user.pk) is None

    assert (Order.objects.count(), Payment.objects.count()) == (orders, payments)
    beneficiaries = [f.name for f in Order._meta.fields if f.name.endswith("distributor")]
    assert beneficiaries == ["distributor", "level2_distributor", "level3_distributor"]
    plan_levels = [f.name for f in CommissionPlan._meta.fields if f.name.startswith("level")]
    assert plan_levels == ["level1_percent", "level2_percent", "level3_percent"]
    tier_levels = [f.name for f in Tier._meta.fields if f.name.startswith("level")]
    assert tier_levels == ["level1_percent", "level2_percent", "level3_percent"]
    # no setting of the programme can put a price on joining
    priced = [
        f.name
        for f in ProgrammeSettings._meta.fields
        if any(word in f.name for word in ("fee", "price", "cost", "charge"))
    ]
    assert priced == []


# --- Binding rules ----------------------------------------------------------------------------


def test_permanent_binding_first_link_wins(merchant, customer, chain):
    bind(merchant=merchant, customer=customer, distributor=chain[0])
    binding = customer_bind(merchant=merchant, customer=customer, invite_code=chain[1].invite_code)
    assert (binding.distributor_id, binding.expires_at) == (chain[0].pk, None)
    assert list(BindingChange.objects.values_list("to_distributor_id", "reason")) == [
        (chain[0].pk, "bound")
    ]


def test_binding_for_n_days_expires_exactly_at_n_days(merchant, customer, chain, sku):
    programme_settings_update(merchant=merchant, binding_mode="days", binding_days=7)
    start = timezone.now() - timedelta(days=7)
    binding = customer_bind(
        merchant=merchant, customer=customer, invite_code=chain[0].invite_code, now=start
    )
    assert binding.expires_at == start + timedelta(days=7)

    # one microsecond before the boundary a new link changes nothing
    before = customer_bind(
        merchant=merchant,
        customer=customer,
        invite_code=chain[1].invite_code,
        now=start + timedelta(days=7) - timedelta(microseconds=1),
    )
    assert before.distributor_id == chain[0].pk
    # at the boundary instant the binding no longer counts: an order pays no one
    CustomerBinding.objects.filter(pk=binding.pk).update(expires_at=timezone.now())
    order = order_place(
        merchant=merchant, customer=customer, lines=[(sku.pk, 1)], recipient=RECIPIENT
    )
    assert order.distributor_id is None
    # and the next link binds anew, for another 7 days
    at = start + timedelta(days=7)
    CustomerBinding.objects.filter(pk=binding.pk).update(expires_at=at)
    rebound = customer_bind(
        merchant=merchant, customer=customer, invite_code=chain[1].invite_code, now=at
    )
    assert (rebound.distributor_id, rebound.expires_at) == (chain[1].pk, at + timedelta(days=7))
    assert list(
        BindingChange.objects.order_by("id").values_list(
            "from_distributor_id", "to_distributor_id", "reason"
        )
    ) == [(None, chain[0].pk, "bound"), (chain[0].pk, chain[1].pk, "expired_rebound")]


def test_binding_still_in_force_pays_its_distributor(merchant, customer, chain, sku):
    programme_settings_update(merchant=merchant, binding_mode="days", binding_days=7)
    bind(merchant=merchant, customer=customer, distributor=chain[3])
    CustomerBinding.objects.update(expires_at=timezone.now() + timedelta(seconds=30))
    order = order_place(
        merchant=merchant, customer=customer, lines=[(sku.pk, 1)], recipient=RECIPIENT
    )
    assert (order.distributor_id, order.level2_distributor_id) == (chain[3].pk, chain[2].pk)


def test_latest_link_wins(merchant, customer, chain):
    programme_settings_update(merchant=merchant, binding_mode="latest")
    for distributor in (chain[0], chain[2], chain[2], chain[1]):
        binding = bind_and_get(merchant, customer, distributor)
    assert binding.distributor_id == chain[1].pk
    assert CustomerBinding.objects.filter(customer=customer).count() == 1
    assert list(
        BindingChange.objects.order_by("id").values_list("to_distributor_id", "reason")
    ) == [
        (chain[0].pk, "bound"),
        (chain[2].pk, "latest_link"),
        (chain[1].pk, "latest_link"),
    ]


def bind_and_get(merchant, customer, distributor):
    return customer_bind(merchant=merchant, customer=customer, invite_code=distributor.invite_code)


def test_new_customers_only_refuses_a_customer_who_has_paid(merchant, customer, chain, sku):
    programme_settings_update(merchant=merchant, binding_new_customers_only=True)
    newcomer = UserFactory()
    bind(merchant=merchant, customer=newcomer, distributor=chain[0])
    place(merchant=merchant, customer=customer, lines=[(sku, 1)])  # unpaid: still new
    bind(merchant=merchant, customer=customer, distributor=chain[0])
    CustomerBinding.objects.filter(customer=customer).delete()
    paid_order(merchant=merchant, customer=customer, lines=[(sku, 1)])

    with pytest.raises(DomainError) as refused:
        bind(merchant=merchant, customer=customer, distributor=chain[1])

    assert refused.value.code == "not_a_new_customer"
    assert not CustomerBinding.objects.filter(customer=customer).exists()
    assert CustomerBinding.objects.get(customer=newcomer).distributor_id == chain[0].pk


# --- Fraud guards -----------------------------------------------------------------------------


def test_signup_sharing_a_device_or_ip_is_flagged_once(merchant, chain):
    fraud_check_signup(distributor=chain[0], ip="10.0.0.1", device="a" * 32)
    newcomer = distributor_join(merchant=merchant, user=UserFactory())
    flags = fraud_check_signup(distributor=newcomer, ip="10.0.0.1", device="a" * 32)
    again = fraud_check_signup(distributor=newcomer, ip="10.0.0.1", device="a" * 32)

    assert sorted(flag.kind for flag in flags) == ["device", "ip"]
    assert [flag.pk for flag in again] == [flag.pk for flag in flags]
    assert FraudFlag.objects.filter(distributor=newcomer, status="open").count() == 2
    assert FraudFlag.objects.get(distributor=newcomer, kind="ip").detail == {
        "distributors": [chain[0].pk]
    }
    # a distributor of another store with the same device is no match
    assert fraud_check_signup(distributor=chain[1], ip="10.9.9.9", device="b" * 32) == []


def test_binding_from_the_distributors_own_device_is_flagged(merchant, customer, chain):
    fraud_check_signup(distributor=chain[1], ip="10.0.0.2", device="c" * 32)
    binding = customer_bind(merchant=merchant, customer=customer, invite_code=chain[1].invite_code)
    flags = fraud_check_binding(binding=binding, ip="10.0.0.3", device="c" * 32)
    assert [(flag.distributor_id, flag.kind) for flag in flags] == [(chain[1].pk, "device")]
    assert flags[0].detail == {"bound_customers": [customer.pk]}


def test_suspending_a_flagged_distributor_keeps_earned_commission_and_stops_new(
    merchant, chain, staff_user
):
    # given chain[3]'s customer bought once and chain[3] earned commission on it
    sku = SkuFactory(product__merchant=merchant, price=Decimal("100.00"))
    buyer = UserFactory()
    bind(merchant=merchant, customer=buyer, distributor=chain[3])
    first = completed_order(merchant=merchant, customer=buyer, lines=[(sku, 1)])
    commission_settle_orders(order_id=first.pk)
    earned = CommissionRecord.objects.get(order=first, beneficiary=chain[3]).amount
    second = completed_order(merchant=merchant, customer=buyer, lines=[(sku, 1)])

    # when the merchant suspends chain[3] from a flag
    flag = fraud_check_signup(distributor=chain[3], ip=None, device="") or [
        FraudFlag.objects.create(merchant=merchant, distributor=chain[3], kind="refund_rate")
    ]
    fraud_flag_suspend(flag=flag[0], reviewer=staff_user)
    commission_settle_orders(order_id=second.pk)

    # then it keeps the first commission and earns nothing on the second
    chain[3].refresh_from_db()
    assert chain[3].status == Distributor.Status.SUSPENDED
    assert CommissionRecord.objects.get(order=first, beneficiary=chain[3]).amount == earned
    assert not CommissionRecord.objects.filter(order=second, beneficiary=chain[3]).exists()
    assert Wallet.objects.get(distributor=chain[3]).frozen == earned
    assert FraudFlag.objects.get(pk=flag[0].pk).status == "actioned"
    with pytest.raises(Conflict):
        fraud_flag_dismiss(flag=flag[0], reviewer=staff_user)
