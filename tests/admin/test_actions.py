"""Back-office actions go through the services, one object at a time, and never reach another
merchant's rows."""

from decimal import Decimal

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from apps.commissions.models import CommissionPlan
from apps.ledger.models import LedgerEntry
from apps.merchants.models import Merchant, MerchantApplication, MerchantStaff
from apps.merchants.services import merchant_application_submit
from apps.orders.models import Order, OrderStatusChange
from apps.products.models import Product
from tests.factories import MerchantFactory, ProductFactory, UserFactory

from .test_scoping import url


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def ship_data(*orders, carrier="SF Express", post=True):
    data = {"action": "ship_orders", "_selected_action": [order.pk for order in orders]}
    if post:
        data["post"] = "yes"
    for order in orders:
        data[f"carrier-{order.pk}"] = carrier
        data[f"tracking-{order.pk}"] = f"SF{order.pk}"
    return data


def history(order):
    return list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    )


def test_ship_action_asks_for_tracking_of_own_orders_only(store_a, store_b, staff_client):
    response = staff_client.post(
        url(Order, "changelist"), ship_data(store_a.paid, store_b.paid, post=False)
    )

    assert response.status_code == 200
    assert response.templates[0].name == "admin/orders/order/ship.html"
    assert [order.pk for order in response.context["orders"]] == [store_a.paid.pk]
    assert f'name="tracking-{store_a.paid.pk}"' in response.content.decode()
    assert Order.objects.get(pk=store_a.paid.pk).status == Order.Status.PAID


def test_ship_action_ships_own_orders_and_changes_nothing_of_another_merchant(
    store_a, store_b, staff_client, staff_a
):
    response = staff_client.post(url(Order, "changelist"), ship_data(store_a.paid, store_b.paid))

    assert response.status_code == 302
    assert messages_of(response) == ["1 order(s) shipped."]
    shipped, untouched = (Order.objects.get(pk=o.pk) for o in (store_a.paid, store_b.paid))
    assert (shipped.status, shipped.shipping_carrier, shipped.tracking_number) == (
        Order.Status.SHIPPED,
        "SF Express",
        f"SF{shipped.pk}",
    )
    assert OrderStatusChange.objects.get(order=shipped, to_status="shipped").actor == staff_a
    assert (untouched.status, untouched.shipping_carrier, untouched.tracking_number) == (
        Order.Status.PAID,
        "",
        "",
    )
    assert history(untouched) == [("", "pending_payment"), ("pending_payment", "paid")]


def test_ship_action_reports_each_failure_and_leaves_that_order_alone(store_a, staff_client):
    second_paid = Order.objects.get(pk=store_a.paid.pk)
    data = ship_data(store_a.unpaid, store_a.paid)
    data[f"tracking-{second_paid.pk}"] = "   "

    response = staff_client.post(url(Order, "changelist"), data)

    assert response.status_code == 302
    assert messages_of(response) == [
        f"{store_a.unpaid.number}: Only a paid order can be shipped.",
        f"{store_a.paid.number}: Carrier and tracking number are required.",
    ]
    assert Order.objects.get(pk=store_a.unpaid.pk).status == Order.Status.PENDING_PAYMENT
    paid = Order.objects.get(pk=store_a.paid.pk)
    assert (paid.status, paid.tracking_number) == (Order.Status.PAID, "")
    assert history(paid) == [("", "pending_payment"), ("pending_payment", "paid")]


def test_ship_button_on_the_change_page(store_a, store_b, staff_client):
    ship_url = url(Order, "ship", store_a.paid.pk)

    assert ship_url in staff_client.get(url(Order, "change", store_a.paid.pk)).content.decode()
    assert ship_url.replace(str(store_a.paid.pk), str(store_a.unpaid.pk)) not in (
        staff_client.get(url(Order, "change", store_a.unpaid.pk)).content.decode()
    )
    assert staff_client.get(ship_url).status_code == 200
    assert staff_client.get(url(Order, "ship", store_b.paid.pk)).status_code == 404
    assert (
        staff_client.post(url(Order, "ship", store_b.paid.pk), ship_data(store_b.paid)).status_code
        == 404
    )

    response = staff_client.post(ship_url, ship_data(store_a.paid, carrier="YTO"))

    assert response.status_code == 302
    assert response.url == url(Order, "change", store_a.paid.pk)
    shipped = Order.objects.get(pk=store_a.paid.pk)
    assert (shipped.status, shipped.shipping_carrier) == (Order.Status.SHIPPED, "YTO")
    assert Order.objects.get(pk=store_b.paid.pk).status == Order.Status.PAID


def test_operator_ships_any_merchants_order(store_b, operator_client):
    response = operator_client.post(url(Order, "changelist"), ship_data(store_b.paid))

    assert response.status_code == 302
    assert Order.objects.get(pk=store_b.paid.pk).status == Order.Status.SHIPPED


def test_cancel_unpaid_action(store_a, store_b, staff_client):
    assert store_a.sku.stock == 97  # 100 less the store's three orders

    response = staff_client.post(
        url(Order, "changelist"),
        {
            "action": "cancel_unpaid_orders",
            "_selected_action": [store_a.unpaid.pk, store_a.paid.pk, store_b.unpaid.pk],
        },
    )

    assert response.status_code == 302
    assert messages_of(response) == [
        f"{store_a.paid.number}: Only an unpaid order can be cancelled.",
        "1 order(s) cancelled.",
    ]
    assert dict(
        Order.objects.filter(
            pk__in=[store_a.unpaid.pk, store_a.paid.pk, store_b.unpaid.pk]
        ).values_list("pk", "status")
    ) == {
        store_a.unpaid.pk: "cancelled",
        store_a.paid.pk: "paid",
        store_b.unpaid.pk: "pending_payment",
    }
    store_a.sku.refresh_from_db()
    assert store_a.sku.stock == 98


def test_orders_and_money_cannot_be_edited_by_hand(store_a, staff_client):
    order = store_a.paid

    response = staff_client.post(url(Order, "change", order.pk), {"status": "completed"})

    assert response.status_code == 403
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert staff_client.get(url(Order, "add")).status_code == 403
    assert staff_client.get(url(Order, "delete", order.pk)).status_code == 403
    entry = LedgerEntry.objects.filter(merchant=store_a.merchant).first()
    assert (
        staff_client.post(url(LedgerEntry, "change", entry.pk), {"amount": "999"}).status_code
        == 403
    )
    assert (
        staff_client.post(url(LedgerEntry, "delete", entry.pk), {"post": "yes"}).status_code == 403
    )
    assert staff_client.get(url(LedgerEntry, "add")).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk, amount=entry.amount).count() == 1
    page = staff_client.get(url(Order, "change", order.pk))
    assert page.status_code == 200
    assert page.context["adminform"].form.fields == {}
    inlines = page.context["inline_admin_formsets"]
    # lines, price breakdown (none: no discount on this order), history
    assert [len(inline.formset.forms) for inline in inlines] == [1, 0, 2]
    assert [inline.has_add_permission or inline.has_change_permission for inline in inlines] == [
        False,
        False,
        False,
    ]


def submit(slug="tea-house", username="tea-owner"):
    return merchant_application_submit(
        username=username,
        password="tea-pass-123",
        store_name="Tea House",
        slug=slug,
        contact_name="Han Meimei",
        contact_phone="13900000000",
        contact_email="han@example.com",
    )


def test_operator_approves_an_application_and_the_owner_runs_only_their_store(
    store_a, operator_client
):
    application = submit()

    page = operator_client.get(url(MerchantApplication, "change", application.pk))
    response = operator_client.post(url(MerchantApplication, "approve", application.pk))

    assert url(MerchantApplication, "approve", application.pk) in page.content.decode()
    assert response.status_code == 302
    application.refresh_from_db()
    merchant = Merchant.objects.get(slug="tea-house")
    assert (application.status, application.merchant_id) == ("approved", merchant.pk)
    assert (merchant.status, merchant.name) == ("active", "Tea House")
    assert application.applicant.merchant_membership.merchant_id == merchant.pk
    assert application.applicant.merchant_membership.role == "owner"
    assert CommissionPlan.objects.filter(merchant=merchant).count() == 1

    owner = Client()
    assert owner.login(username="tea-owner", password="tea-pass-123")
    index = owner.get(reverse("admin:index"))
    assert index.status_code == 200
    visible = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    assert {"Product", "Order", "Distributor", "CommissionPlan"} <= visible
    assert not visible & {"MerchantApplication", "Merchant", "User"}
    products = owner.get(url(Product, "changelist"))
    assert products.context["cl"].result_count == 0
    assert owner.get(url(Product, "change", store_a.product.pk)).status_code == 404
    assert owner.get(url(MerchantApplication, "changelist")).status_code == 403

    again = operator_client.post(url(MerchantApplication, "approve", application.pk))
    assert messages_of(again)[-1] == "Tea House: This application has already been reviewed."
    assert Merchant.objects.filter(slug="tea-house").count() == 1


def test_approve_action_reports_a_taken_address(store_a, operator_client):
    # A pending application reserves its address against other applications, but a store can
    # still take it meanwhile by another path; approval must then refuse cleanly.
    first = submit()
    clash = submit(slug="tea-garden", username="copycat")
    MerchantFactory(slug="tea-garden")

    response = operator_client.post(
        url(MerchantApplication, "changelist"),
        {
            "action": "approve_applications",
            "_selected_action": [first.pk, clash.pk],
        },
    )

    assert response.status_code == 302
    assert messages_of(response)[-1] == "Tea House: The store address “tea-garden” is taken."
    assert dict(MerchantApplication.objects.values_list("pk", "status")) == {
        first.pk: "approved",
        clash.pk: "pending",
    }
    assert not hasattr(clash.applicant, "merchant_membership")


def test_reject_action_asks_for_a_reason(operator_client, operator):
    application = submit()
    selection = {"action": "reject_applications", "_selected_action": [application.pk]}

    intermediate = operator_client.post(url(MerchantApplication, "changelist"), selection)
    blank = operator_client.post(
        url(MerchantApplication, "changelist"), {**selection, "post": "yes", "reason": "  "}
    )
    assert MerchantApplication.objects.get(pk=application.pk).status == "pending"
    done = operator_client.post(
        url(MerchantApplication, "changelist"),
        {**selection, "post": "yes", "reason": "Licence missing."},
    )

    assert intermediate.status_code == 200
    assert [a.pk for a in intermediate.context["applications"]] == [application.pk]
    assert blank.status_code == 200
    assert blank.context["form"].errors == {"reason": ["This field is required."]}
    assert done.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.reject_reason, application.reviewed_by) == (
        "rejected",
        "Licence missing.",
        operator,
    )
    assert Merchant.objects.filter(slug="tea-house").count() == 0


def test_reject_page_of_one_application(operator_client):
    application = submit()

    assert (
        operator_client.get(url(MerchantApplication, "reject", application.pk)).status_code == 200
    )
    response = operator_client.post(
        url(MerchantApplication, "reject", application.pk), {"reason": "Duplicate."}
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.status, application.reject_reason) == ("rejected", "Duplicate.")


def test_staff_cannot_review_applications(store_a, staff_client):
    application = submit()

    assert staff_client.post(url(MerchantApplication, "approve", application.pk)).status_code == 403
    assert (
        staff_client.post(
            url(MerchantApplication, "reject", application.pk), {"reason": "no"}
        ).status_code
        == 403
    )
    assert MerchantApplication.objects.get(pk=application.pk).status == "pending"


def test_operator_adds_staff_who_can_then_sign_in(store_a, operator_client):
    user = UserFactory()
    response = operator_client.post(
        url(MerchantStaff, "add"),
        {
            "user": user.pk,
            "merchant": store_a.merchant.pk,
            "role": "staff",
        },
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.is_staff, user.merchant_membership.merchant_id) == (True, store_a.merchant.pk)


def test_delete_selected_deletes_only_own_rows(store_a, store_b, staff_client):
    own_spare = ProductFactory(merchant=store_a.merchant, name="Spare A")
    other_spare = ProductFactory(merchant=store_b.merchant, name="Spare B")
    selection = {"action": "delete_selected", "_selected_action": [own_spare.pk, other_spare.pk]}

    confirm = staff_client.post(url(Product, "changelist"), selection)
    response = staff_client.post(url(Product, "changelist"), {**selection, "post": "yes"})

    assert confirm.status_code == 200
    assert list(confirm.context["queryset"]) == [own_spare]
    assert response.status_code == 302
    assert set(Product.objects.values_list("name", flat=True)) == {
        store_a.product.name,
        store_b.product.name,
        "Spare B",
    }


def test_operator_suspends_and_activates_merchants(store_a, store_b, operator_client):
    Merchant.objects.filter(pk=store_b.merchant.pk).update(status=Merchant.Status.SUSPENDED)
    selection = {"_selected_action": [store_a.merchant.pk, store_b.merchant.pk]}

    suspended = operator_client.post(
        url(Merchant, "changelist"), {**selection, "action": "suspend_merchants"}
    )

    assert messages_of(suspended) == ["1 merchant(s) suspended."]
    assert set(Merchant.objects.values_list("status", flat=True)) == {"suspended"}

    activated = operator_client.post(
        url(Merchant, "changelist"), {**selection, "action": "activate_merchants"}
    )

    assert messages_of(activated) == ["1 merchant(s) suspended.", "2 merchant(s) activated."]
    assert set(Merchant.objects.values_list("status", flat=True)) == {"active"}


def test_operator_changes_a_merchants_status_and_fee_on_its_form(store_a, operator_client):
    merchant = store_a.merchant
    data = {
        "name": merchant.name,
        "status": "suspended",
        "platform_fee_percent": "2.50",
        "contact_email": "",
        "description": "",
    }

    response = operator_client.post(url(Merchant, "change", merchant.pk), data)

    assert response.status_code == 302
    assert Merchant.objects.values_list("status", "platform_fee_percent").get(pk=merchant.pk) == (
        "suspended",
        Decimal("2.50"),
    )
