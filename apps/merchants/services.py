from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.accounts.applications import (
    applicant_account_create,
    application_lock_pending,
    application_mark_approved,
    application_reject,
)
from apps.accounts.models import User
from apps.core import events
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.state import compare_and_swap

from .events import MerchantCreated
from .models import Merchant, MerchantApplication, MerchantStaff


def merchant_create(*, name: str, slug: str, owner: User, platform_fee_percent=None) -> Merchant:
    """An active merchant with its owner as staff; the apps above give it their defaults
    (``MerchantCreated``: commissions opens its default plan) in the same transaction."""
    with transaction.atomic():
        fields = {"name": name, "slug": slug, "status": Merchant.Status.ACTIVE}
        if platform_fee_percent is not None:
            fields["platform_fee_percent"] = platform_fee_percent
        try:
            with transaction.atomic():
                merchant = Merchant.objects.create(**fields)
        except IntegrityError as error:
            raise Conflict(_("The store address “%(slug)s” is taken.") % {"slug": slug}) from error
        merchant_staff_add(merchant=merchant, user=owner, role=MerchantStaff.Role.OWNER)
        events.publish(MerchantCreated(merchant_id=merchant.pk))
    return merchant


def merchant_staff_add(*, merchant: Merchant, user: User, role: str) -> MerchantStaff:
    """Make ``user`` staff of ``merchant`` and let them into the back office (``is_staff``).

    A user works for one merchant at most: one who is staff already (here or elsewhere) is
    refused with Conflict.
    """
    if role not in MerchantStaff.Role.values:
        raise DomainError(_("Unknown staff role “%(role)s”.") % {"role": role}, code="invalid_role")
    with transaction.atomic():
        try:
            with transaction.atomic():
                membership = MerchantStaff.objects.create(merchant=merchant, user=user, role=role)
        except IntegrityError as error:
            raise Conflict(
                _("This user already works for another merchant."), code="already_staff"
            ) from error
        if not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
    return membership


def merchant_staff_update(*, staff_id: int, **fields: Any) -> MerchantStaff:
    """Change a membership's merchant, user or role; a new user gets back-office access too."""
    unknown = set(fields) - {"merchant", "user", "role"}
    if unknown:
        raise TypeError(f"not staff fields: {', '.join(sorted(unknown))}")
    if "role" in fields and fields["role"] not in MerchantStaff.Role.values:
        raise DomainError(
            _("Unknown staff role “%(role)s”.") % {"role": fields["role"]}, code="invalid_role"
        )
    with transaction.atomic():
        membership = MerchantStaff.objects.select_for_update().filter(pk=staff_id).first()
        if membership is None:
            raise NotFound(_("No such staff member."), code="unknown_staff")
        for name, value in fields.items():
            setattr(membership, name, value)
        try:
            with transaction.atomic():
                membership.save(update_fields=list(fields))
        except IntegrityError as error:
            raise Conflict(
                _("This user already works for another merchant."), code="already_staff"
            ) from error
        if "user" in fields and not membership.user.is_staff:
            User.objects.filter(pk=membership.user_id).update(is_staff=True)
            membership.user.is_staff = True
    return membership


MERCHANT_STATUSES = frozenset(Merchant.Status.values)


def merchant_set_status(*, merchant_id: int, status: str) -> bool:
    """Put the merchant in ``status`` (pending, active, suspended) as a compare-and-swap from the
    status it has now. True if this call changed it, False if it was in that status already;
    Conflict if someone else changed it in between."""
    if status not in MERCHANT_STATUSES:
        raise DomainError(
            _("Unknown merchant status “%(status)s”.") % {"status": status}, code="invalid_status"
        )
    current = Merchant.objects.filter(pk=merchant_id).values_list("status", flat=True).first()
    if current is None:
        raise NotFound(_("No such merchant."), code="unknown_merchant")
    if current == status:
        return False
    if not compare_and_swap(
        Merchant.objects, pk=merchant_id, field="status", old=current, new=status
    ):
        raise Conflict(
            _("The merchant's status changed meanwhile; look again."), code="status_changed"
        )
    return True


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
    """A public application: creates the applicant's account (not yet staff) and the application.

    The store address is reserved while the application is pending (a partial unique constraint
    settles two applicants racing for it).
    """
    slug_claimed = MerchantApplication.objects.filter(
        slug=slug, status=MerchantApplication.Status.PENDING
    ).exists()
    if slug_claimed or Merchant.objects.filter(slug=slug).exists():
        raise DomainError(
            _("The store address “%(slug)s” is taken.") % {"slug": slug}, code="slug_taken"
        )
    with transaction.atomic():
        user = applicant_account_create(username=username, password=password, email=contact_email)
        try:
            with transaction.atomic():
                return MerchantApplication.objects.create(
                    applicant=user,
                    store_name=store_name,
                    slug=slug,
                    contact_name=contact_name,
                    contact_phone=contact_phone,
                    contact_email=contact_email,
                    description=description,
                )
        except IntegrityError as error:
            raise DomainError(
                _("The store address “%(slug)s” is taken.") % {"slug": slug}, code="slug_taken"
            ) from error


def merchant_application_approve(*, application_id: int, reviewer: User) -> Merchant:
    with transaction.atomic():
        application = application_lock_pending(MerchantApplication, application_id)
        if application is None:
            raise NotFound(_("No such application."), code="unknown_application")
        merchant = merchant_create(
            name=application.store_name, slug=application.slug, owner=application.applicant
        )
        merchant.contact_email = application.contact_email
        merchant.description = application.description
        merchant.save(update_fields=["contact_email", "description"])
        application_mark_approved(application, reviewer=reviewer, merchant=merchant)
    return merchant


def merchant_application_reject(*, application_id: int, reviewer: User, reason: str) -> None:
    application_reject(
        MerchantApplication, application_id=application_id, reviewer=reviewer, reason=reason
    )
