"""Fraud guards: flag for the merchant's review a distributor who signs up (or a customer bound to
a distributor) from the device or the IP address of another distributor of the same merchant.

Self-referral and loops are refused outright (``binding_bind``, ``distributor_move``); these are the
cases a rule cannot decide, so they are flagged, not refused. One open flag per (distributor, kind),
enforced by a partial unique index; a flag raised again while open only adds to its detail.
Refund-rate flags (kind ``refund_rate``) are raised by the refunds code with ``fraud_flag_raise``.
"""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.core.state import compare_and_swap

from .models import CustomerBinding, Distributor, FraudFlag
from .services import distributors_set_status


def fraud_flag_raise(*, distributor: Distributor, kind: str, detail: dict) -> FraudFlag:
    """Open a flag of ``kind`` on ``distributor``; when one is already open, merge ``detail`` in."""
    with transaction.atomic():
        FraudFlag.objects.bulk_create(
            [
                FraudFlag(
                    merchant_id=distributor.merchant_id,
                    distributor=distributor,
                    kind=kind,
                    detail=detail,
                )
            ],
            ignore_conflicts=True,
        )
        flag = FraudFlag.objects.select_for_update().get(
            merchant_id=distributor.merchant_id,
            distributor=distributor,
            kind=kind,
            status=FraudFlag.Status.OPEN,
        )
        merged = _merge(flag.detail, detail)
        if merged != flag.detail:
            flag.detail = merged
            flag.save(update_fields=["detail", "updated_at"])
    return flag


def _merge(old: dict, new: dict) -> dict:
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, list):
            merged[key] = sorted(set(merged.get(key, [])) | set(value))
        else:
            merged[key] = value
    return merged


def _sharing(*, distributor: Distributor, ip: str | None, device: str) -> dict[str, list[int]]:
    """Other distributors of the merchant with the same sign-up device / IP, by kind."""
    found: dict[str, list[int]] = {}
    others = Distributor.objects.filter(merchant_id=distributor.merchant_id).exclude(
        pk=distributor.pk
    )
    if device:
        ids = list(others.filter(signup_device=device).order_by("pk").values_list("pk", flat=True))
        if ids:
            found[FraudFlag.Kind.DEVICE] = ids
    if ip:
        ids = list(others.filter(signup_ip=ip).order_by("pk").values_list("pk", flat=True))
        if ids:
            found[FraudFlag.Kind.IP] = ids
    return found


def fraud_check_signup(*, distributor: Distributor, ip: str | None, device: str) -> list[FraudFlag]:
    """Record where the distributor signed up; flag them if another distributor of the merchant
    signed up from the same device or IP."""
    device = (device or "")[:64]
    Distributor.objects.filter(pk=distributor.pk).update(signup_ip=ip, signup_device=device)
    distributor.signup_ip, distributor.signup_device = ip, device
    return [
        fraud_flag_raise(distributor=distributor, kind=kind, detail={"distributors": ids})
        for kind, ids in _sharing(distributor=distributor, ip=ip, device=device).items()
    ]


def fraud_check_binding(
    *, binding: CustomerBinding, ip: str | None, device: str
) -> list[FraudFlag]:
    """Flag the distributor a customer was just bound to when the customer's device or IP is the
    distributor's own sign-up device or IP (an alternative account buying through oneself)."""
    distributor = Distributor.objects.get(pk=binding.distributor_id)
    kinds = []
    if device and distributor.signup_device == device[:64]:
        kinds.append(FraudFlag.Kind.DEVICE)
    if ip and distributor.signup_ip == ip:
        kinds.append(FraudFlag.Kind.IP)
    return [
        fraud_flag_raise(
            distributor=distributor, kind=kind, detail={"bound_customers": [binding.customer_id]}
        )
        for kind in kinds
    ]


def _review(*, flag: FraudFlag, new: str, reviewer: User | None) -> None:
    if not compare_and_swap(
        FraudFlag.objects,
        pk=flag.pk,
        field="status",
        old=FraudFlag.Status.OPEN,
        new=new,
        reviewed_by=reviewer,
    ):
        raise Conflict(_("This flag has already been reviewed."), code="flag_reviewed")
    flag.status, flag.reviewed_by = new, reviewer


def fraud_flag_dismiss(*, flag: FraudFlag, reviewer: User | None) -> FraudFlag:
    """open → dismissed: reviewed, nothing wrong."""
    _review(flag=flag, new=FraudFlag.Status.DISMISSED, reviewer=reviewer)
    return flag


def fraud_flag_suspend(*, flag: FraudFlag, reviewer: User | None) -> FraudFlag:
    """open → actioned, and the distributor is suspended (earns nothing new, keeps what it earned).

    Any other open flag of the same distributor is closed as actioned too."""
    with transaction.atomic():
        _review(flag=flag, new=FraudFlag.Status.ACTIONED, reviewer=reviewer)
        distributors_set_status(
            queryset=Distributor.objects.filter(pk=flag.distributor_id),
            old=Distributor.Status.ACTIVE,
            new=Distributor.Status.SUSPENDED,
        )
        FraudFlag.objects.filter(
            Q(distributor_id=flag.distributor_id), status=FraudFlag.Status.OPEN
        ).update(status=FraudFlag.Status.ACTIONED, reviewed_by=reviewer)
    return flag
