from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.commissions.models import CommissionPlan
from apps.core.errors import Conflict, DomainError

from .models import Merchant, MerchantApplication, MerchantStaff


def merchant_create(*, name: str, slug: str, owner: User, platform_fee_percent=None) -> Merchant:
    """An active merchant with its owner as staff and a default commission plan."""
    with transaction.atomic():
        fields = {"name": name, "slug": slug, "status": Merchant.Status.ACTIVE}
        if platform_fee_percent is not None:
            fields["platform_fee_percent"] = platform_fee_percent
        try:
            with transaction.atomic():
                merchant = Merchant.objects.create(**fields)
        except IntegrityError as error:
            raise Conflict(_("The store address “%(slug)s” is taken.") % {"slug": slug}) from error
        if MerchantStaff.objects.filter(user=owner).exists():
            raise Conflict(_("This user already works for another merchant."))
        MerchantStaff.objects.create(merchant=merchant, user=owner, role=MerchantStaff.Role.OWNER)
        if not owner.is_staff:
            owner.is_staff = True
            owner.save(update_fields=["is_staff"])
        CommissionPlan.objects.create(merchant=merchant)
    return merchant


def merchant_application_submit(
    *,
    username: str,
    password: str,
    store_name: str,
    slug: str,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    description: str = "",
) -> MerchantApplication:
    """A public application: creates the applicant's account (not yet staff) and the application."""
    slug_claimed = MerchantApplication.objects.filter(
        slug=slug, status=MerchantApplication.Status.PENDING
    ).exists()
    if slug_claimed or Merchant.objects.filter(slug=slug).exists():
        raise DomainError(
            _("The store address “%(slug)s” is taken.") % {"slug": slug}, code="slug_taken"
        )
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create(
                    username=username, password=make_password(password), email=contact_email
                )
        except IntegrityError as error:
            raise DomainError(_("That username is taken."), code="username_taken") from error
        return MerchantApplication.objects.create(
            applicant=user,
            store_name=store_name,
            slug=slug,
            contact_name=contact_name,
            contact_phone=contact_phone,
            contact_email=contact_email,
            description=description,
        )


def merchant_application_approve(*, application_id: int, reviewer: User) -> Merchant:
    with transaction.atomic():
        application = MerchantApplication.objects.select_for_update().get(pk=application_id)
        if application.status != MerchantApplication.Status.PENDING:
            raise Conflict(_("This application has already been reviewed."))
        merchant = merchant_create(
            name=application.store_name, slug=application.slug, owner=application.applicant
        )
        merchant.contact_email = application.contact_email
        merchant.description = application.description
        merchant.save(update_fields=["contact_email", "description"])
        application.status = MerchantApplication.Status.APPROVED
        application.reviewed_by = reviewer
        application.reviewed_at = timezone.now()
        application.merchant = merchant
        application.save(update_fields=["status", "reviewed_by", "reviewed_at", "merchant"])
    return merchant


def merchant_application_reject(*, application_id: int, reviewer: User, reason: str) -> None:
    if not reason.strip():
        raise DomainError(_("Give the applicant a reason."), code="reason_required")
    updated = MerchantApplication.objects.filter(
        pk=application_id, status=MerchantApplication.Status.PENDING
    ).update(
        status=MerchantApplication.Status.REJECTED,
        reject_reason=reason.strip(),
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
    )
    if not updated:
        raise Conflict(_("This application has already been reviewed."))
