"""Customer binding (锁客): a customer arriving through a distributor's link is bound to them per
the merchant's binding mode, with the history of every bind and rebind.

"In force" has one definition, ``binding_in_force`` (models): every read of bindings filters or
annotates with it, here under the row lock as in the selectors and at order placement.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.merchants.models import Merchant

from .models import BindingChange, CustomerBinding, Distributor, ProgrammeSettings, binding_in_force
from .selectors import programme_settings_for
from .services import distributor_get_by_code


def binding_bind(
    *,
    merchant: Merchant,
    customer: User,
    invite_code: str,
    has_paid_before: Callable[[], bool],
    source: str = CustomerBinding.Source.LINK,
    now: datetime | None = None,
) -> CustomerBinding:
    """Bind ``customer`` to the distributor owning ``invite_code``, per the merchant's binding mode.

    - permanent: the first link wins, for ever;
    - days: the binding counts for ``binding_days`` from the instant it is made; a link arriving
      once it has expired binds anew (to whoever's link it is);
    - latest: every new link rebinds to its distributor.
    With ``binding_new_customers_only``, a customer who has ever paid an order in this store is not
    bound (nor rebound): ``has_paid_before`` answers that, asked only when the rule applies (orders
    stand above this app; ``apps.programme.binding.customer_bind`` passes the answer in).
    Refused: a distributor referring themselves, and a customer who is a distributor being bound
    to someone in their own downline (a loop). Every bind and rebind is kept
    in ``BindingChange``. Returns the binding in force afterwards.
    """
    now = now or timezone.now()
    distributor = distributor_get_by_code(merchant=merchant, code=invite_code)
    if distributor.user_id == customer.pk:
        raise DomainError(_("You cannot refer yourself."), code="self_referral")
    own_profile = Distributor.objects.filter(merchant=merchant, user=customer).first()
    if own_profile is not None and (
        distributor.tree_id == own_profile.tree_id
        and own_profile.lft < distributor.lft
        and distributor.rght < own_profile.rght
    ):
        raise DomainError(
            _("You cannot be referred by someone in your own team."), code="referral_loop"
        )
    settings = programme_settings_for(merchant=merchant)
    Mode = ProgrammeSettings.BindingMode
    expires_at = (
        now + timedelta(days=settings.binding_days) if settings.binding_mode == Mode.DAYS else None
    )
    with transaction.atomic():
        binding = _binding_locked(merchant=merchant, customer=customer, now=now)
        if binding is not None:
            in_force = binding.in_force  # type: ignore[attr-defined]
            if binding.distributor_id == distributor.pk and in_force:
                return binding
            if in_force and settings.binding_mode != Mode.LATEST:
                return binding  # permanent, or days not yet over: the first link keeps it
        if settings.binding_new_customers_only and has_paid_before():
            raise DomainError(
                _("Only new customers can be bound to a distributor in this store."),
                code="not_a_new_customer",
            )
        if binding is None:
            binding = _binding_create(
                merchant=merchant,
                customer=customer,
                distributor=distributor,
                source=source,
                now=now,
                expires_at=expires_at,
            )
            if binding.distributor_id != distributor.pk:
                return binding  # a concurrent first link won
            previous_id, reason = None, BindingChange.Reason.BOUND
        else:
            previous_id = binding.distributor_id
            reason = (
                BindingChange.Reason.LATEST_LINK
                if binding.in_force  # type: ignore[attr-defined]
                else BindingChange.Reason.EXPIRED_REBOUND
            )
            binding.distributor = distributor
            binding.source, binding.bound_at, binding.expires_at = source, now, expires_at
            binding.save(update_fields=["distributor", "source", "bound_at", "expires_at"])
        BindingChange.objects.create(
            merchant=merchant,
            customer=customer,
            from_distributor_id=previous_id,
            to_distributor=distributor,
            reason=reason,
            created_at=now,
        )
    return binding


def _binding_locked(*, merchant: Merchant, customer: User, now: datetime) -> CustomerBinding | None:
    """The customer's binding, locked, with ``in_force`` at ``now`` computed by the one rule."""
    return (
        CustomerBinding.objects.select_for_update()
        .filter(merchant=merchant, customer=customer)
        .annotate(in_force=ExpressionWrapper(binding_in_force(now), output_field=BooleanField()))
        .first()
    )


def _binding_create(
    *,
    merchant: Merchant,
    customer: User,
    distributor: Distributor,
    source: str,
    now: datetime,
    expires_at: datetime | None,
) -> CustomerBinding:
    """Create the customer's binding; if a concurrent link created it first, return that one."""
    try:
        with transaction.atomic():
            return CustomerBinding.objects.create(
                merchant=merchant,
                customer=customer,
                distributor=distributor,
                source=source,
                bound_at=now,
                expires_at=expires_at,
            )
    except IntegrityError:
        found = _binding_locked(merchant=merchant, customer=customer, now=now)
        assert found is not None
        return found
