"""The whole purchase journey through the Django test client, as a referred consumer takes it."""

from decimal import Decimal

from django.urls import reverse

from apps.commissions.services import commission_settle_orders
from apps.distributors.models import CustomerBinding
from apps.orders.models import CartItem, Order
from apps.orders.services import order_ship
from apps.payments.models import Payment
from apps.payments.providers.sandbox import (
    SIGNATURE_HEADER,
    sandbox_notification_body,
    sandbox_sign,
)
from apps.payments.tasks import sandbox_deliver_notification
from tests.factories import PASSWORD


def test_referred_consumer_buys_pays_confirms_and_uplines_earn(
    client, merchant, sku, chain, staff_user, django_capture_on_commit_callbacks, monkeypatch
):
    root, level3, level2, level1 = chain
    product_url = reverse(
        "storefront:product", kwargs={"slug": merchant.slug, "product_id": sku.product_id}
    )

    # Given an anonymous visitor arriving through the deepest distributor's share link
    response = client.get(f"{product_url}?ref={level1.invite_code}")
    assert response.status_code == 200
    assert client.cookies[f"fx_ref_{merchant.slug}"].value == level1.invite_code

    # When they try to add to the cart, they are sent to sign in first
    response = client.post(product_url, {"sku": sku.pk, "quantity": 2})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={product_url}"

    # They sign up and land back on the product page, bound to the distributor who shared it
    response = client.post(
        f"{reverse('accounts:signup')}?next={product_url}",
        {
            "username": "buyer-bob",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "phone": "13900000000",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(product_url, 302)]
    buyer = response.context["user"]
    assert buyer.username == "buyer-bob" and buyer.phone == "13900000000"
    binding = CustomerBinding.objects.get(merchant=merchant, customer=buyer)
    assert binding.distributor_id == level1.pk

    # Add to cart and check out
    response = client.post(product_url, {"sku": sku.pk, "quantity": 2})
    assert response.status_code == 302
    assert CartItem.objects.get(cart__customer=buyer).quantity == 2
    cart_page = client.get(reverse("storefront:cart", kwargs={"slug": merchant.slug}))
    assert cart_page.status_code == 200
    assert "¥200.00" in cart_page.content.decode()

    response = client.post(
        reverse("storefront:checkout", kwargs={"slug": merchant.slug}),
        {
            "recipient_name": "Bob",
            "recipient_phone": "13900000000",
            "shipping_address": "2 Huaihai Road, Shanghai",
            "note": "ring twice",
        },
    )
    order = Order.objects.get(customer=buyer)
    order_url = reverse("storefront:order", kwargs={"slug": merchant.slug, "order_id": order.pk})
    assert response.status_code == 302 and response["Location"] == order_url
    assert order.payable_amount == Decimal("200.00")
    assert (order.distributor_id, order.level2_distributor_id, order.level3_distributor_id) == (
        level1.pk,
        level2.pk,
        level3.pk,
    )
    assert not CartItem.objects.filter(cart__customer=buyer).exists()
    page = client.get(order_url)
    assert page.status_code == 200
    assert 'data-test="pay-order"' in page.content.decode()

    # Pay: the order page sends them to the sandbox provider's pay page
    response = client.post(
        reverse("storefront:order-pay", kwargs={"slug": merchant.slug, "order_id": order.pk})
    )
    payment = Payment.objects.get(order=order)
    pay_url = reverse("payments:sandbox-pay", kwargs={"out_trade_no": payment.out_trade_no})
    assert response.status_code == 302 and response["Location"] == pay_url
    pay_page = client.get(pay_url)
    assert pay_page.status_code == 200
    content = pay_page.content.decode()
    assert "¥200.00" in content and order.number in content and merchant.name in content

    # Confirming enqueues the provider's notification once the transaction commits
    calls = []
    monkeypatch.setattr(sandbox_deliver_notification, "delay", lambda *args: calls.append(args))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(pay_url)
    assert response.status_code == 302 and response["Location"] == f"{order_url}?confirming=1"
    assert len(callbacks) == 1 and len(calls) == 1
    assert calls[0][0] == payment.pk and calls[0][1].startswith("SBX")
    waiting = client.get(f"{order_url}?confirming=1").content.decode()
    assert 'data-test="payment-confirming"' in waiting
    assert '<meta http-equiv="refresh" content="3">' in waiting
    assert 'data-test="pay-order"' not in waiting

    # The provider's signed notification arrives
    body = sandbox_notification_body(
        out_trade_no=payment.out_trade_no,
        provider_trade_no=calls[0][1],
        amount=payment.amount,
        paid_at=payment.created_at,
    )
    response = client.post(
        reverse("payments:notify", kwargs={"provider": "sandbox"}),
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: sandbox_sign(body)},
    )
    assert response.status_code == 200
    assert response.json() == {"code": "SUCCESS"}
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert (
        'data-test="payment-confirming"'
        not in client.get(f"{order_url}?confirming=1").content.decode()
    )

    # The merchant ships; the consumer sees the tracking number and confirms receipt
    order_ship(
        merchant=merchant,
        order_id=order.pk,
        carrier="SF Express",
        tracking_number="SF123456",
        actor=staff_user,
    )
    page = client.get(order_url).content.decode()
    assert "SF123456" in page and 'data-test="confirm-receipt"' in page
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse(
                "storefront:order-confirm", kwargs={"slug": merchant.slug, "order_id": order.pk}
            )
        )
    assert response.status_code == 302 and response["Location"] == order_url
    assert len(callbacks) == 1  # settlement enqueued on commit
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    history = client.get(order_url).context["history"]
    assert [change.to_status for change in history] == [
        "pending_payment",
        "paid",
        "shipped",
        "completed",
    ]

    # Settlement (run directly here) makes the frozen commission show on each upline's earnings page
    assert commission_settle_orders(order_id=order.pk) == 3
    earnings_url = reverse("storefront:distributor-earnings", kwargs={"slug": merchant.slug})
    for distributor, frozen in ((level1, "20.00"), (level2, "10.00"), (level3, "4.00")):
        client.force_login(distributor.user)
        response = client.get(earnings_url)
        assert response.status_code == 200
        assert response.context["wallet"].frozen == Decimal(frozen)
        content = response.content.decode()
        assert f'data-test="wallet-frozen">¥{frozen}<' in content
        assert order.number in content
    client.force_login(root.user)
    assert client.get(earnings_url).context["wallet"].frozen == Decimal("0.00")
