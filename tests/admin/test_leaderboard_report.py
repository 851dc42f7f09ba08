"""The back office's leaderboard report: staff see their own store's boards only."""

from django.urls import reverse


def test_staff_see_their_own_leaderboards(store_a, store_b, staff_client):
    response = staff_client.get(reverse("admin-leaderboard"), {"period": "all"})

    assert response.status_code == 200
    content = response.content.decode()
    assert response.context["merchant"] == store_a.merchant
    assert store_a.child.invite_code in content and store_a.root.invite_code in content
    assert store_b.child.invite_code not in content and store_b.root.invite_code not in content


def test_the_report_needs_a_merchant_or_the_operator(store_a, client, operator):
    client.force_login(operator)
    chosen = client.get(reverse("admin-leaderboard"), {"merchant": store_a.merchant.pk})
    assert chosen.context["merchant"] == store_a.merchant
    client.logout()
    assert client.get(reverse("admin-leaderboard")).status_code == 302  # to the admin login
