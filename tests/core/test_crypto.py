"""apps/core/crypto.py: encryption at rest, key rotation, blind indexes, the encrypted field."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from apps.core import crypto
from apps.credentials.models import ProviderAccount

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def test_encrypt_then_decrypt_gives_the_text_back_and_tokens_differ_each_time():
    first = crypto.encrypt("商户私钥 secret")
    second = crypto.encrypt("商户私钥 secret")

    assert first != second
    assert "secret" not in first
    assert crypto.decrypt(first) == "商户私钥 secret"
    assert crypto.decrypt(second) == "商户私钥 secret"


def test_a_token_of_an_unknown_key_or_an_altered_token_fails_to_decrypt(settings):
    foreign = Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    token = crypto.encrypt("hello")
    altered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(foreign)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(altered)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt("not a token at all ✗")


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings.FENXIAO_ENCRYPTION_KEYS = [OLD_KEY]
    under_old = crypto.encrypt("old text")

    settings.FENXIAO_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    under_new = crypto.encrypt("new text")

    assert crypto.decrypt(under_old) == "old text"
    assert Fernet(NEW_KEY).decrypt(under_new.encode()) == b"new text"
    assert crypto.encrypted_by_primary(under_new) is True
    assert crypto.encrypted_by_primary(under_old) is False
    rotated = crypto.rotate(under_old)
    assert Fernet(NEW_KEY).decrypt(rotated.encode()) == b"old text"

    settings.FENXIAO_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(under_old)


def test_parse_keys_accepts_a_comma_separated_list_and_refuses_a_bad_key_without_showing_it():
    assert crypto.parse_keys(f" {NEW_KEY} , {OLD_KEY} ,") == [NEW_KEY, OLD_KEY]
    with pytest.raises(ImproperlyConfigured, match="key 2 is not a Fernet key") as raised:
        crypto.parse_keys(f"{NEW_KEY},not-a-key-at-all")
    assert "not-a-key-at-all" not in str(raised.value)
    with pytest.raises(ImproperlyConfigured, match="at least one key"):
        crypto.parse_keys(" , ")


def test_blind_index_is_deterministic_keyed_and_separated_by_purpose(settings):
    phone = crypto.blind_index("13800000000", purpose="user.phone")

    assert phone == crypto.blind_index("13800000000", purpose="user.phone")
    assert len(phone) == 64
    assert phone != crypto.blind_index("13800000001", purpose="user.phone")
    assert phone != crypto.blind_index("13800000000", purpose="address.phone")
    # The rotation of the encryption keys does not move the index.
    settings.FENXIAO_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.blind_index("13800000000", purpose="user.phone") == phone
    settings.FENXIAO_BLIND_INDEX_KEY = "another-blind-index-key-of-enough-length-000"
    assert crypto.blind_index("13800000000", purpose="user.phone") != phone


def test_blind_index_refuses_a_short_key(settings):
    settings.FENXIAO_BLIND_INDEX_KEY = "short"
    with pytest.raises(ImproperlyConfigured):
        crypto.blind_index("x", purpose="p")


def stored_token(account: ProviderAccount, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM credentials_provideraccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


def make_account(merchant, **fields) -> ProviderAccount:
    values = {
        "provider": ProviderAccount.Provider.ALIPAY,
        "app_id": "2021000000000000",
        "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----",
        "provider_public_key": "-----BEGIN PUBLIC KEY-----\nMIIB...\n-----END PUBLIC KEY-----",
    }
    values.update(fields)
    return ProviderAccount.objects.create(merchant=merchant, **values)


def test_the_encrypted_field_stores_a_token_and_reads_the_text(merchant):
    account = make_account(merchant, api_key="0123456789abcdef0123456789abcdef")

    token = stored_token(account, "private_key")
    assert "PRIVATE KEY" not in token
    assert crypto.decrypt(token).startswith("-----BEGIN PRIVATE KEY-----")
    fresh = ProviderAccount.objects.get(pk=account.pk)
    assert fresh.private_key == account.private_key
    assert fresh.api_key == "0123456789abcdef0123456789abcdef"
    assert list(ProviderAccount.objects.values_list("api_key", flat=True)) == [
        "0123456789abcdef0123456789abcdef"
    ]


def test_filtering_on_an_encrypted_column_is_refused_except_isnull(merchant):
    make_account(merchant)

    with pytest.raises(FieldError, match="blind index"):
        ProviderAccount.objects.filter(private_key="x").count()
    assert ProviderAccount.objects.filter(private_key__isnull=False).count() == 1


def test_encryption_keys_new_prints_a_usable_key():
    out = io.StringIO()
    call_command("encryption_keys", "new", stdout=out, stderr=io.StringIO())

    key = out.getvalue().strip()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"ok")) == b"ok"


def test_encryption_keys_rotate_re_encrypts_old_rows_under_the_first_key(
    settings, merchant, other_merchant
):
    settings.FENXIAO_ENCRYPTION_KEYS = [OLD_KEY]
    old = make_account(merchant, api_key="v3-key-of-the-first-merchant-000")
    settings.FENXIAO_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    new = make_account(other_merchant, provider=ProviderAccount.Provider.WECHATPAY)
    new_token = stored_token(new, "private_key")

    out = io.StringIO()
    call_command("encryption_keys", "rotate", stdout=out)

    assert "credentials.ProviderAccount.private_key: 1 of 2 rows re-encrypted" in out.getvalue()
    assert "credentials.ProviderAccount.api_key: 1 of 2 rows re-encrypted" in out.getvalue()
    assert stored_token(new, "private_key") == new_token
    settings.FENXIAO_ENCRYPTION_KEYS = [NEW_KEY]
    fresh = ProviderAccount.objects.get(pk=old.pk)
    assert fresh.private_key == old.private_key
    assert fresh.api_key == "v3-key-of-the-first-merchant-000"


def test_encryption_keys_rotate_stops_with_one_line_on_a_row_no_key_opens(settings, merchant):
    settings.FENXIAO_ENCRYPTION_KEYS = [OLD_KEY]
    make_account(merchant)
    settings.FENXIAO_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(CommandError, match="a row no configured key opens"):
        call_command("encryption_keys", "rotate", stdout=io.StringIO())


@pytest.mark.slow
def test_production_settings_refuse_to_start_without_encryption_keys(tmp_path):
    import os
    import subprocess
    import sys

    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FENXIAO_ENCRYPTION_KEYS", "FENXIAO_BLIND_INDEX_KEY")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.prod",
        DJANGO_SECRET_KEY="x",
        FENXIAO_SANDBOX_PAY_SECRET="x",
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    command = [sys.executable, "-c", "import django; django.setup()"]

    missing = subprocess.run(command, env=environment, capture_output=True, text=True)
    environment["FENXIAO_ENCRYPTION_KEYS"] = "not-a-key"
    environment["FENXIAO_BLIND_INDEX_KEY"] = "b" * 40
    bad = subprocess.run(command, env=environment, capture_output=True, text=True)
    environment["FENXIAO_ENCRYPTION_KEYS"] = NEW_KEY
    good = subprocess.run(command, env=environment, capture_output=True, text=True)

    assert missing.returncode != 0
    assert "FENXIAO_ENCRYPTION_KEYS" in missing.stderr
    assert bad.returncode != 0
    assert "key 1 is not a Fernet key" in bad.stderr
    assert good.returncode == 0, good.stderr
