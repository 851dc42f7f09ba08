"""Bulk import of distributors from CSV: the whole file is checked first; a bad row refuses it."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import User
from apps.distributors.imports import ImportRefused, distributors_import
from apps.distributors.models import Distributor
from apps.distributors.services import distributor_join
from apps.ledger.models import Wallet
from tests.factories import UserFactory
from tests.support.tree import assert_trees_valid


def counts():
    return (User.objects.count(), Distributor.objects.count(), Wallet.objects.count())


def parents_by_username(merchant):
    return dict(
        Distributor.objects.filter(merchant=merchant).values_list(
            "user__username", "parent__user__username"
        )
    )


def test_a_good_file_imports_every_row_under_its_upline(merchant, chain):
    existing = UserFactory(username="already_user")
    text = (
        "username,name,upline,invite_code\n"
        "alice,爱丽丝,,\n"
        f"bob,鲍勃,{chain[3].invite_code.lower()},\n"
        "carol,,dave,CARLA234\n"  # dave comes later in the file
        "dave,,alice,\n"
        "already_user,,bob,\n"
    )

    count = distributors_import(merchant=merchant, text=text)

    assert count == 5
    parents = parents_by_username(merchant)
    assert {name: parents[name] for name in ("alice", "bob", "carol", "dave", "already_user")} == {
        "alice": None,
        "bob": chain[3].user.username,
        "carol": "dave",
        "dave": "alice",
        "already_user": "bob",
    }
    carol = Distributor.objects.get(user__username="carol")
    assert (carol.invite_code, carol.level, carol.user.nickname) == ("CARLA234", 2, "")
    assert Distributor.objects.get(user__username="already_user").user_id == existing.pk
    alice = User.objects.get(username="alice")
    assert (alice.nickname, alice.has_usable_password()) == ("爱丽丝", False)
    assert Wallet.objects.filter(distributor__merchant=merchant).count() == 4 + 5
    bob = Distributor.objects.get(user__username="bob")
    assert [d.pk for d in bob.get_ancestors(ascending=True)] == [c.pk for c in reversed(chain)]
    assert_trees_valid()
    # and the imported tree takes joins like any other
    joined = distributor_join(merchant=merchant, user=UserFactory(), invite_code=carol.invite_code)
    assert joined.parent_id == carol.pk
    assert_trees_valid()


def test_phone_rows_create_accounts_named_after_the_phone(merchant):
    text = "phone,name,upline\n13800000001,甲,\n13800000002,乙,13800000001\n"

    distributors_import(merchant=merchant, text=text)

    assert parents_by_username(merchant) == {"13800000001": None, "13800000002": "13800000001"}
    assert User.objects.get(username="13800000002").phone == "13800000002"


BAD_FILES = [
    ("username,upline\nann,\nbob,NOBODY99\n", 3, "neither a row of this file"),
    ("username,upline\nann,\nbob,ann\nann,bob\n", 4, "“ann” is already on row 2"),
    ("username,upline\nroot,\nx,y\ny,z\nz,x\n", 3, "go round in a circle"),
    ("username,upline\nself,self\n", 2, "its own upline"),
    ("phone,upline\n13800000001,\n12ab,13800000001\n", 3, "“12ab” is not a phone number"),
    ("username,upline\nok,\nbad name!,ok\n", 3, "not a valid username"),
    ("username,upline,invite_code\na,,AAAA2222\nb,a,AAAA2222\n", 3, "also on row 2"),
    ("username,upline,invite_code\na,,bad\n", 2, "not a valid invite code"),
    ("username,upline\na,\nb,a,extra\n", 3, "3 values, the header has 2"),
]


@pytest.mark.parametrize(("text", "row", "reason"), BAD_FILES)
def test_a_bad_row_refuses_the_whole_file_with_its_number(merchant, chain, text, row, reason):
    before = counts()

    with pytest.raises(ImportRefused) as caught:
        distributors_import(merchant=merchant, text=text)

    assert caught.value.row == row
    assert reason in caught.value.message
    assert caught.value.message.startswith(f"Row {row}: ")
    assert counts() == before


def test_a_user_already_distributor_here_is_refused(merchant, chain):
    text = f"username,upline\nnew_one,\n{chain[2].user.username},new_one\n"

    with pytest.raises(ImportRefused) as caught:
        distributors_import(merchant=merchant, text=text)

    assert (caught.value.row, caught.value.reason) == (
        3,
        f"“{chain[2].user.username}” is already a distributor of this store.",
    )


def test_a_code_taken_in_the_store_and_a_suspended_upline_are_refused(merchant, chain):
    Distributor.objects.filter(pk=chain[1].pk).update(status=Distributor.Status.SUSPENDED)
    text = f"username,upline,invite_code\na,,{chain[0].invite_code}\nb,{chain[1].invite_code},\n"

    with pytest.raises(ImportRefused) as caught:
        distributors_import(merchant=merchant, text=text)

    assert caught.value.row == 2
    assert "is taken in this store" in caught.value.message
    assert "(and 1 more bad rows)" in caught.value.message


def test_another_stores_code_is_an_unknown_upline(merchant, other_merchant):
    theirs = distributor_join(merchant=other_merchant, user=UserFactory())

    with pytest.raises(ImportRefused) as caught:
        distributors_import(merchant=merchant, text=f"username,upline\na,{theirs.invite_code}\n")

    assert caught.value.row == 2
    assert "neither a row of this file" in caught.value.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty."),
        ("name,upline\nx,\n", "Row 1: the header needs a “username” or a “phone” column."),
        ("username,colour\n", "Row 1: unknown column “colour”."),
        ("username,upline\n\n", "The file has no distributors in it."),
    ],
)
def test_a_bad_header_or_an_empty_file_is_refused(merchant, text, message):
    with pytest.raises(ImportRefused) as caught:
        distributors_import(merchant=merchant, text=text)

    assert caught.value.message == message


def test_a_failure_while_writing_leaves_nothing_half_imported(merchant, chain, monkeypatch):
    # given a file that passes the check, and a write that fails after the users and some rows
    from apps.distributors.imports import writing

    monkeypatch.setattr(writing, "BATCH_SIZE", 2)
    calls = []
    real_bulk_create = Wallet.objects.bulk_create

    def failing_second_batch(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(Wallet.objects, "bulk_create", failing_second_batch)
    before = counts()
    lfts = dict(Distributor.objects.values_list("pk", "lft"))
    text = "username,upline\n" + "".join(f"u{i},{chain[0].invite_code}\n" for i in range(5))

    with pytest.raises(RuntimeError):
        distributors_import(merchant=merchant, text=text)

    assert counts() == before
    assert dict(Distributor.objects.values_list("pk", "lft")) == lfts


def test_the_command_imports_with_a_progress_bar(merchant, tmp_path, capsys):
    path = tmp_path / "team.csv"
    path.write_text("\ufeffusername,name,upline\nboss,老板,\nstaff,员工,boss\n", encoding="utf-8")

    call_command("import_distributors", "--merchant", merchant.slug, str(path))

    out, err = capsys.readouterr()
    assert out == f"imported 2 distributors into {merchant.slug}\n"
    assert "writing: 100%" in err
    assert parents_by_username(merchant) == {"boss": None, "staff": "boss"}


def test_the_command_refuses_a_bad_file_with_one_line(merchant, tmp_path):
    path = tmp_path / "team.csv"
    path.write_text("username,upline\nboss,\nstaff,nobody\n", encoding="utf-8")

    with pytest.raises(CommandError) as caught:
        call_command("import_distributors", "--merchant", merchant.slug, str(path))

    assert str(caught.value) == (
        "Row 3: the upline “nobody” is neither a row of this file nor an invite code of this store."
    )
    assert Distributor.objects.count() == 0
