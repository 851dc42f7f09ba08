"""Personal data: phones normalised for lookup, blind-indexed, and masked for those who may not see
them (the encryption itself is apps/core/crypto.py)."""

import re

from .crypto import blind_index

_SEPARATORS = re.compile(r"[\s\-().]")


def phone_normalized(phone: str) -> str:
    """``+86 138-0000-1234`` → ``13800001234``: the form a lookup compares."""
    digits = _SEPARATORS.sub("", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


def phone_index(phone: str, *, purpose: str) -> str:
    """The blind index of a phone (empty for no phone), e.g. ``purpose="order.recipient_phone"``."""
    normalized = phone_normalized(phone)
    return blind_index(normalized, purpose=purpose) if normalized else ""


def phone_mask(phone: str) -> str:
    """``13800001234`` → ``138****1234``; short numbers keep only their last two digits."""
    phone = phone or ""
    if len(phone) >= 7:
        return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"
    return "*" * max(len(phone) - 2, 0) + phone[-2:]
