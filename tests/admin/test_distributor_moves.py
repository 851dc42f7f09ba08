"""Changing a distributor's inviter in the admin: a refused move is a form error, never a
"changed successfully" with a log entry."""

from django.contrib.admin.models import CHANGE, LogEntry

from apps.distributors import admin as distributor_admin
from apps.distributors import tree
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join
from tests.factories import UserFactory

from .test_scoping import url

LOOP_MESSAGE = "A distributor cannot be placed under itself or under someone in its own team."


def tree_state():
    return sorted(
        Distributor.objects.values_list("pk", "parent_id", "tree_id", "lft", "rght", "level")
    )


def messages_shown(response):
    return [str(message) for message in response.context["messages"]]


def test_a_successful_move_is_logged_and_reported(store_a, staff_client, staff_a):
    other_root = distributor_join(merchant=store_a.merchant, user=UserFactory())

    response = staff_client.post(
        url(Distributor, "change", store_a.child.pk), {"parent": other_root.pk}, follow=True
    )

    assert response.status_code == 200
    assert Distributor.objects.get(pk=store_a.child.pk).parent_id == other_root.pk
    assert list(LogEntry.objects.values_list("object_id", "action_flag", "user_id")) == [
        (str(store_a.child.pk), CHANGE, staff_a.pk)
    ]
    assert len(messages_shown(response)) == 1
    assert "was changed successfully" in messages_shown(response)[0]


def test_a_move_refused_while_saving_is_a_form_error_without_log_or_success(
    store_a, staff_client, monkeypatch
):
    # given a move that passed validation but that the service refuses when it holds the tree
    # locks (here: the trees kept changing under it, so it gives up with a conflict)
    other_root = distributor_join(merchant=store_a.merchant, user=UserFactory())
    monkeypatch.setattr(tree, "TREE_LOCK_ATTEMPTS", 0)
    before = tree_state()

    response = staff_client.post(
        url(Distributor, "change", store_a.child.pk), {"parent": other_root.pk}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [
        "The distributor tree is being rearranged right now. Please try again."
    ]
    assert messages_shown(response) == []
    assert "changed successfully" not in response.content.decode()
    assert LogEntry.objects.count() == 0
    assert tree_state() == before


def test_a_loop_that_appears_after_validation_is_a_form_error(store_a, staff_client, monkeypatch):
    # given the form saw a valid tree (another admin had not yet moved child under root's team),
    # simulated by skipping the form's check; the service, under the locks, sees the loop
    monkeypatch.setattr(distributor_admin, "distributor_move_check", lambda **kwargs: None)
    before = tree_state()

    response = staff_client.post(
        url(Distributor, "change", store_a.root.pk), {"parent": store_a.child.pk}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [LOOP_MESSAGE]
    assert messages_shown(response) == []
    assert LogEntry.objects.count() == 0
    assert tree_state() == before


def test_the_form_checks_the_tree_as_stored(store_a, staff_client):
    grandchild = distributor_join(
        merchant=store_a.merchant, user=UserFactory(), invite_code=store_a.child.invite_code
    )

    response = staff_client.post(
        url(Distributor, "change", store_a.child.pk), {"parent": grandchild.pk}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [LOOP_MESSAGE]
    assert LogEntry.objects.count() == 0
    assert Distributor.objects.get(pk=store_a.child.pk).parent_id == store_a.root.pk
