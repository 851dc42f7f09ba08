"""Live rooms (商城直播): a scheduled broadcast with its products, live-only prices, chat and mutes.

What changes many times a second (who is watching, likes) lives in Redis (``presence.py``); what a
merchant decides, what viewers say and who may not speak lives here.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class LiveRoom(MerchantOwned):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        ENDED = "ended", _("Ended")

    TRANSITIONS: ClassVar[Mapping[str, frozenset[str]]] = {
        Status.SCHEDULED: frozenset({Status.LIVE, Status.ENDED}),
        Status.LIVE: frozenset({Status.ENDED}),
        Status.ENDED: frozenset(),
    }

    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    cover = models.ImageField(_("cover"), upload_to="live/covers/", blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    # The stream comes from the merchant's streaming service: an HLS (.m3u8) or FLV address.
    stream_url = models.URLField(_("stream URL (HLS or FLV)"), max_length=500)
    replay_url = models.URLField(_("replay URL"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status, default=Status.SCHEDULED)
    started_at = models.DateTimeField(_("went live at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Words (one per line) that a chat message may not contain; matched case-insensitively.
    banned_words = models.TextField(_("banned words (one per line)"), blank=True)
    pinned = models.ForeignKey(
        "LiveRoomProduct",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pinned product"),
    )
    pinned_at = models.DateTimeField(_("pinned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("live room")
        verbose_name_plural = _("live rooms")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["merchant", "status", "starts_at"], name="live_room_list")]

    def __str__(self) -> str:
        return self.title

    @property
    def banned_word_list(self) -> list[str]:
        return [word.strip().lower() for word in self.banned_words.splitlines() if word.strip()]


class LiveRoomStatusChange(MerchantOwned):
    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("live room status change")
        verbose_name_plural = _("live room status changes")
        ordering = ["id"]


class LiveRoomProduct(MerchantOwned):
    """A product shown in the room (the host pins one at a time)."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(
        "products.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product in the room")
        verbose_name_plural = _("products in the room")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "product"], name="live_room_product_once")
        ]

    def __str__(self) -> str:
        return str(self.product)


class LivePrice(MerchantOwned):
    """A live-only price (直播价) of one SKU: applies only to orders placed from the room while it
    is live, and stays within the SKU's price rules (its resale floor and ceiling)."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey(
        "products.Sku", on_delete=models.PROTECT, related_name="+", verbose_name=_("SKU")
    )
    price = models.DecimalField(
        _("live price"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    class Meta:
        verbose_name = _("live-only price")
        verbose_name_plural = _("live-only prices")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "sku"], name="live_price_once_per_sku"),
            models.CheckConstraint(condition=models.Q(price__gt=0), name="live_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.sku}: {self.price}"


class LiveChatMessage(MerchantOwned):
    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    text = models.CharField(_("text"), max_length=500)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["room", "-id"], name="live_chat_recent")]

    def __str__(self) -> str:
        return self.text


class LiveMute(MerchantOwned):
    """A user who may not chat in the room (set by the merchant's staff)."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("muted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("muted user")
        verbose_name_plural = _("muted users")
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="live_mute_once")]
