"""Supplier onboarding (供应商入驻), staff, and the supply catalogue's writes."""

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
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

from .events import SupplyTermsChanged
from .licences import licence_check
from .models import Supplier, SupplierApplication, SupplierStaff, SupplyProduct, SupplySku


def supplier_application_submit(
    *,
    username: str,
    password: str,
    company_name: str,
    slug: str,
    categories: str,
    contact_name: str,
    contact_phone: str,
    contact_email: str,
    licence: UploadedFile | None,
) -> SupplierApplication:
    """A public application: the applicant's account (no back office yet) and the application.

    The licence is checked before anything is written; a bad one writes nothing.
    """
    content_type = licence_check(licence)
    slug_claimed = SupplierApplication.objects.filter(
        slug=slug, status=SupplierApplication.Status.PENDING
    ).exists()
    if slug_claimed or Supplier.objects.filter(slug=slug).exists():
        raise DomainError(_("The code “%(slug)s” is taken.") % {"slug": slug}, code="slug_taken")
    with transaction.atomic():
        user = applicant_account_create(username=username, password=password, email=contact_email)
        try:
            with transaction.atomic():
                return SupplierApplication.objects.create(
                    applicant=user,
                    company_name=company_name.strip(),
                    slug=slug,
                    categories=categories.strip(),
                    contact_name=contact_name.strip(),
                    contact_phone=contact_phone.strip(),
                    contact_email=contact_email,
                    licence=licence,
                    licence_content_type=content_type,
                )
        except IntegrityError as error:
            raise DomainError(
                _("The code “%(slug)s” is taken.") % {"slug": slug}, code="slug_taken"
            ) from error


def _tell_applicant(application: SupplierApplication, subject: str, body: str) -> None:
    recipient = application.contact_email
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    )


def supplier_application_approve(*, application_id: int, reviewer: User) -> Supplier:
    """Open the supplier, make the applicant its owner (back-office login) and tell them."""
    with transaction.atomic():
        application = application_lock_pending(SupplierApplication, application_id)
        if application is None:
            raise NotFound(_("No such application."), code="unknown_application")
        try:
            with transaction.atomic():
                supplier = Supplier.objects.create(
                    name=application.company_name,
                    slug=application.slug,
                    categories=application.categories,
                    contact_name=application.contact_name,
                    contact_phone=application.contact_phone,
                    contact_email=application.contact_email,
                )
        except IntegrityError as error:
            raise Conflict(
                _("The code “%(slug)s” is taken.") % {"slug": application.slug}
            ) from error
        supplier_staff_add(
            supplier=supplier, user=application.applicant, role=SupplierStaff.Role.OWNER
        )
        application_mark_approved(application, reviewer=reviewer, supplier=supplier)
        _tell_applicant(
            application,
            _("Your supplier application is approved"),
            _(
                "%(company)s is now a supplier on Fenxiao. Sign in to the back office as "
                "%(username)s to list your products."
            )
            % {"company": supplier.name, "username": application.applicant.username},
        )
    return supplier


def supplier_application_reject(*, application_id: int, reviewer: User, reason: str) -> None:
    with transaction.atomic():
        application = application_reject(
            SupplierApplication, application_id=application_id, reviewer=reviewer, reason=reason
        )
        _tell_applicant(
            application,
            _("Your supplier application was not approved"),
            _("The platform did not approve %(company)s as a supplier. Reason: %(reason)s")
            % {"company": application.company_name, "reason": application.reject_reason},
        )


def supplier_staff_add(*, supplier: Supplier, user: User, role: str) -> SupplierStaff:
    """Make ``user`` staff of ``supplier`` (and let them into the back office).

    A user works for one tenant at most: merchant staff or another supplier's are refused.
    """
    if role not in SupplierStaff.Role.values:
        raise DomainError(_("Unknown staff role “%(role)s”.") % {"role": role}, code="invalid_role")
    with transaction.atomic():
        if type(user).objects.filter(pk=user.pk, merchant_membership__isnull=False).exists():
            raise Conflict(_("This user works for a merchant."), code="already_staff")
        try:
            with transaction.atomic():
                membership = SupplierStaff.objects.create(supplier=supplier, user=user, role=role)
        except IntegrityError as error:
            raise Conflict(
                _("This user already works for another supplier."), code="already_staff"
            ) from error
        if not user.is_staff:
            User.objects.filter(pk=user.pk).update(is_staff=True)
            user.is_staff = True
    return membership


# What, on a supply SKU or product, changes what a merchant's pick may be sold at or whether it
# may be sold at all: a change of one of these is announced to the stores (SupplyTermsChanged).
SKU_TERMS = ("supply_price", "min_retail_price", "is_active")
PRODUCT_TERMS = ("is_listed", "removed_by_platform")


def supply_sku_save(*, sku: SupplySku, changed: list[str]) -> SupplySku:
    """Write a new or changed supply SKU (only the ``changed`` columns of an existing one) and
    announce changed terms to the stores selling it, in the same transaction."""
    with transaction.atomic():
        if sku.pk is None:
            sku.save()
            return sku
        columns = [name for name in changed if name in _concrete(SupplySku)]
        if columns:
            sku.save(update_fields=columns)
        if set(columns) & set(SKU_TERMS):
            events.publish(
                SupplyTermsChanged(supplier_id=sku.supplier_id, supply_sku_ids=(sku.pk,))
            )
    return sku


def supply_product_save(*, product: SupplyProduct, changed: list[str]) -> SupplyProduct:
    with transaction.atomic():
        if product.pk is None:
            product.save()
            return product
        columns = [name for name in changed if name in _concrete(SupplyProduct)]
        if columns:
            product.save(update_fields=columns)
        if set(columns) & set(PRODUCT_TERMS):
            _announce_product(product)
    return product


def supply_product_remove(*, product_id: int, reason: str) -> None:
    """The platform takes a product off the catalogue: every store stops selling it."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the supplier a reason."), code="reason_required")
    with transaction.atomic():
        product = SupplyProduct.objects.select_for_update().filter(pk=product_id).first()
        if product is None:
            raise NotFound(_("No such product."), code="unknown_product")
        product.removed_by_platform = True
        product.removed_reason = reason[:255]
        product.save(update_fields=["removed_by_platform", "removed_reason"])
        _announce_product(product)


def supply_stock_set(*, supplier: Supplier, sku_id: int, stock: int) -> None:
    """The supplier counts its stock: one pool, so every store sees the new figure at once."""
    if stock < 0:
        raise DomainError(_("Stock cannot be negative."), code="invalid_stock")
    if not SupplySku.objects.filter(supplier=supplier, pk=sku_id).update(stock=stock):
        raise NotFound(_("No such SKU."), code="unknown_sku")


def _announce_product(product: SupplyProduct) -> None:
    sku_ids = tuple(SupplySku.objects.filter(product=product).values_list("pk", flat=True))
    if sku_ids:
        events.publish(SupplyTermsChanged(supplier_id=product.supplier_id, supply_sku_ids=sku_ids))


def _concrete(model: Any) -> set[str]:
    return {field.name for field in model._meta.concrete_fields if not field.primary_key}
