from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.merchants.models import MerchantOwned


class Material(MerchantOwned):
    """素材/培训: an article, image or file a merchant publishes for its distributors (product
    knowledge, selling scripts, pictures to forward). Distributors see only published ones."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        IMAGE = "image", _("Image")
        FILE = "file", _("File")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind, default=Kind.ARTICLE)
    title = models.CharField(_("title"), max_length=120)
    category = models.CharField(_("category"), max_length=32, blank=True)
    body = models.TextField(
        _("text"),
        blank=True,
        help_text=_("Plain text; blank lines separate paragraphs. HTML is shown as typed."),
    )
    image = models.ImageField(_("image"), upload_to="materials/images/", blank=True)
    file = models.FileField(_("file"), upload_to="materials/files/", blank=True)
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    sort = models.IntegerField(_("sort order"), default=0, help_text=_("Smaller comes first."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["sort", "-published_at", "-id"]
        indexes = [models.Index(fields=["merchant", "is_published", "sort"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(is_published=False) | models.Q(published_at__isnull=False),
                name="material_published_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.title


class MaterialRead(MerchantOwned):
    """One distributor's reading of one material: first and last time, and how often."""

    material = models.ForeignKey(
        Material, on_delete=models.CASCADE, related_name="reads", verbose_name=_("material")
    )
    distributor = models.ForeignKey(
        "distributors.Distributor",
        on_delete=models.CASCADE,
        related_name="material_reads",
        verbose_name=_("distributor"),
    )
    first_read_at = models.DateTimeField(_("first read at"))
    last_read_at = models.DateTimeField(_("last read at"))
    read_count = models.PositiveIntegerField(_("times read"), default=1)

    class Meta:
        verbose_name = _("material read")
        verbose_name_plural = _("material reads")
        ordering = ["-last_read_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["material", "distributor"], name="material_read_once_per_distributor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.distributor_id} · {self.material_id}"
