"""Recruitment modes (分销模式): who may become a distributor of a merchant, and how.

- everyone (人人分销): the storefront's own join (``distributor_join``) admits anyone;
- application (申请): the user applies with answers to the merchant's questions; staff approve
  (the applicant joins under the inviter of the application) or reject with a reason;
- appointed (指定): only staff make someone a distributor (``distributor_appoint``);
- threshold (满额): a customer whose paid total in the store reaches ``spend_threshold`` joins
  automatically, right after the payment that crosses it (and by a beat sweep); never revoked.
  Reading the paid total needs orders and refunds: that part is ``apps.programme.threshold``.

Anti-pyramid rule: none of these paths creates an order or a payment; becoming a distributor never
costs anything, and the programme never has more than three commission levels.
"""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import USER_PHONE, User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.money import NotTwoPlaces, parse_two_places
from apps.core.personal import phone_index
from apps.core.state import compare_and_swap
from apps.merchants.models import Merchant

from .guards import fraud_check_signup
from .models import Distributor, DistributorApplication, ProgrammeSettings
from .selectors import programme_settings_for
from .services import distributor_get_by_code, distributor_join_or_get

Mode = ProgrammeSettings.RecruitmentMode
Q = Distributor.Qualification
MAX_QUESTIONS = 20
MAX_QUESTION_LENGTH = 200
MAX_ANSWER_LENGTH = 500


def distributor_join_qualified(
    *,
    merchant: Merchant,
    user: User,
    invite_code: str | None,
    qualification: str,
    qualifying_order_id: int | None = None,
    ip: str | None = None,
    device: str = "",
) -> tuple[Distributor, bool]:
    """Join through a path other than the storefront's own; (profile, whether it is new).

    An inviter who can no longer invite (suspended, or unknown) does not block the join: the user is
    placed as if no code had been given.
    """
    if invite_code:
        try:
            distributor_get_by_code(merchant=merchant, code=invite_code)
        except DomainError:
            invite_code = None
    return distributor_signup(
        merchant=merchant,
        user=user,
        invite_code=invite_code,
        qualification=qualification,
        qualifying_order_id=qualifying_order_id,
        ip=ip,
        device=device,
    )


def distributor_signup(
    *,
    merchant: Merchant,
    user: User,
    invite_code: str | None = None,
    qualification: str = Q.EVERYONE,
    qualifying_order_id: int | None = None,
    ip: str | None = None,
    device: str = "",
) -> tuple[Distributor, bool]:
    """The one way in for a person: join (``distributor_join_or_get``), then, for a new profile,
    record where they signed up and run the fraud check on it. (profile, whether it is new).

    The storefront's join page, the API's join and every recruitment path call this; a bad invite
    code, a closed store or a recruitment mode that does not admit the path is a DomainError."""
    distributor, created = distributor_join_or_get(
        merchant=merchant,
        user=user,
        invite_code=invite_code,
        qualification=qualification,
        qualifying_order_id=qualifying_order_id,
    )
    if created and (ip or device):
        fraud_check_signup(distributor=distributor, ip=ip, device=device)
    return distributor, created


# --- Programme settings -----------------------------------------------------------------------


def application_questions_parse(text: str) -> list[str]:
    """One question per non-empty line."""
    questions = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(questions) > MAX_QUESTIONS:
        raise DomainError(
            _("At most %(max)d questions.") % {"max": MAX_QUESTIONS}, code="too_many_questions"
        )
    if any(len(question) > MAX_QUESTION_LENGTH for question in questions):
        raise DomainError(
            _("A question may be at most %(max)d characters long.") % {"max": MAX_QUESTION_LENGTH},
            code="question_too_long",
        )
    return questions


def programme_settings_validate(settings: ProgrammeSettings) -> None:
    """Raise DomainError when the settings do not make a working programme."""
    if settings.recruitment_mode == Mode.THRESHOLD and not settings.spend_threshold:
        raise DomainError(
            _("Threshold mode needs a spending threshold above zero."),
            code="spend_threshold_required",
        )
    if settings.spend_threshold is not None and settings.spend_threshold <= 0:
        raise DomainError(
            _("The spending threshold must be above zero."), code="spend_threshold_required"
        )
    if settings.binding_days < 1 or settings.binding_days > 3650:
        raise DomainError(
            _("Binding days must be between 1 and 3650."), code="invalid_binding_days"
        )
    threshold = settings.refund_rate_threshold
    if threshold is not None and not Decimal("0") < threshold <= Decimal("100"):
        raise DomainError(
            _("The refund rate flag must be a percentage above 0 and at most 100."),
            code="invalid_refund_rate_threshold",
        )
    if not 1 <= settings.refund_rate_days <= 365:
        raise DomainError(
            _("The refund rate period must be between 1 and 365 days."),
            code="invalid_refund_rate_days",
        )
    questions = settings.application_questions
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise DomainError(_("Questions must be a list of texts."), code="invalid_questions")
    application_questions_parse("\n".join(questions))


def programme_settings_update(*, merchant: Merchant, **values: object) -> ProgrammeSettings:
    """Create or update the merchant's programme settings, validated as a whole."""
    with transaction.atomic():
        ProgrammeSettings.objects.get_or_create(merchant=merchant)
        settings = ProgrammeSettings.objects.select_for_update().get(merchant=merchant)
        for name, value in values.items():
            if name == "spend_threshold" and value not in (None, ""):
                try:
                    value = parse_two_places(value if isinstance(value, Decimal) else str(value))
                except NotTwoPlaces as error:
                    raise DomainError(
                        _("The spending threshold must be an amount with at most two decimals."),
                        code="invalid_spend_threshold",
                    ) from error
            elif name == "spend_threshold":
                value = None
            elif name == "refund_rate_threshold" and value not in (None, ""):
                try:
                    value = parse_two_places(value if isinstance(value, Decimal) else str(value))
                except NotTwoPlaces as error:
                    raise DomainError(
                        _("The refund rate flag must be a percentage with at most two decimals."),
                        code="invalid_refund_rate_threshold",
                    ) from error
            elif name == "refund_rate_threshold":
                value = None
            setattr(settings, name, value)
        if settings.application_questions:
            settings.application_questions = application_questions_parse(
                "\n".join(settings.application_questions)
            )
        programme_settings_validate(settings)
        settings.save()
    return settings


# --- Applications -----------------------------------------------------------------------------


def application_latest(*, merchant: Merchant, user: User) -> DistributorApplication | None:
    return (
        DistributorApplication.objects.filter(merchant=merchant, user=user).order_by("-id").first()
    )


def application_submit(
    *,
    merchant: Merchant,
    user: User,
    answers: list[str],
    invite_code: str = "",
    ip: str | None = None,
    device: str = "",
) -> DistributorApplication:
    """Apply to become a distributor (application mode). One pending application at a time."""
    if not merchant.is_active:
        raise NotFound(_("This store is not open."))
    settings = programme_settings_for(merchant=merchant)
    if settings.recruitment_mode != Mode.APPLICATION:
        raise DomainError(_("This store does not take applications."), code="applications_closed")
    if Distributor.objects.filter(merchant=merchant, user=user).exists():
        raise Conflict(
            _("You are already a distributor of this store."), code="already_distributor"
        )
    questions = list(settings.application_questions)
    if not isinstance(answers, list) or len(answers) != len(questions):
        raise DomainError(_("Please answer every question."), code="answers_required")
    cleaned = [str(answer).strip() for answer in answers]
    if any(not answer for answer in cleaned):
        raise DomainError(_("Please answer every question."), code="answers_required")
    if any(len(answer) > MAX_ANSWER_LENGTH for answer in cleaned):
        raise DomainError(
            _("An answer may be at most %(max)d characters long.") % {"max": MAX_ANSWER_LENGTH},
            code="answer_too_long",
        )
    code = ""
    if invite_code and invite_code.strip():
        code = distributor_get_by_code(merchant=merchant, code=invite_code).invite_code
    try:
        with transaction.atomic():
            return DistributorApplication.objects.create(
                merchant=merchant,
                user=user,
                invite_code=code,
                answers=[
                    {"question": question, "answer": answer}
                    for question, answer in zip(questions, cleaned, strict=True)
                ],
                signup_ip=ip,
                signup_device=device[:64],
            )
    except IntegrityError as error:
        raise Conflict(
            _("Your application is already waiting for review."), code="application_pending"
        ) from error


def application_approve(
    *, application: DistributorApplication, reviewer: User | None
) -> Distributor:
    """pending → approved; the applicant joins under the application's inviter."""
    now = timezone.now()
    with transaction.atomic():
        if not compare_and_swap(
            DistributorApplication.objects,
            pk=application.pk,
            field="status",
            old=DistributorApplication.Status.PENDING,
            new=DistributorApplication.Status.APPROVED,
            reviewed_by=reviewer,
            reviewed_at=now,
        ):
            raise Conflict(
                _("This application has already been reviewed."), code="application_reviewed"
            )
        distributor, _created = distributor_join_qualified(
            merchant=application.merchant,
            user=application.user,
            invite_code=application.invite_code or None,
            qualification=Q.APPLICATION,
            ip=application.signup_ip,
            device=application.signup_device,
        )
        DistributorApplication.objects.filter(pk=application.pk).update(distributor=distributor)
    application.status = DistributorApplication.Status.APPROVED
    application.reviewed_by, application.reviewed_at = reviewer, now
    application.distributor = distributor
    return distributor


def application_reject(
    *, application: DistributorApplication, reviewer: User | None, reason: str
) -> DistributorApplication:
    """pending → rejected with a reason the applicant sees. They may apply again."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Please give a reason for the rejection."), code="reason_required")
    if len(reason) > 255:
        raise DomainError(
            _("The reason may be at most 255 characters long."), code="reason_too_long"
        )
    now = timezone.now()
    if not compare_and_swap(
        DistributorApplication.objects,
        pk=application.pk,
        field="status",
        old=DistributorApplication.Status.PENDING,
        new=DistributorApplication.Status.REJECTED,
        reviewed_by=reviewer,
        reviewed_at=now,
        reject_reason=reason,
    ):
        raise Conflict(
            _("This application has already been reviewed."), code="application_reviewed"
        )
    application.status = DistributorApplication.Status.REJECTED
    application.reviewed_by, application.reviewed_at = reviewer, now
    application.reject_reason = reason
    return application


# --- Appointment ------------------------------------------------------------------------------


def user_find_for_appointment(*, lookup: str) -> User:
    """The user whose username or phone is exactly ``lookup`` (no listing, no partial match)."""
    lookup = (lookup or "").strip()
    if not lookup:
        raise DomainError(_("Enter a username or phone number."), code="user_required")
    users = list(User.objects.filter(username=lookup)[:1]) or list(
        User.objects.filter(phone_index=phone_index(lookup, purpose=USER_PHONE) or "-").order_by(
            "id"
        )[:2]
    )
    if len(users) != 1:
        raise NotFound(
            _("No single user has the username or phone “%(lookup)s”.") % {"lookup": lookup[:64]},
            code="unknown_user",
        )
    return users[0]


def distributor_appoint(*, merchant: Merchant, user: User, invite_code: str = "") -> Distributor:
    """Staff make ``user`` a distributor (any recruitment mode; the only way in appointed mode).

    ``invite_code``, if given, places them under that distributor. Already a distributor → Conflict.
    """
    if Distributor.objects.filter(merchant=merchant, user=user).exists():
        raise Conflict(
            _("%(user)s is already a distributor of this store.") % {"user": user.display_name},
            code="already_distributor",
        )
    code = None
    if invite_code and invite_code.strip():
        code = distributor_get_by_code(merchant=merchant, code=invite_code).invite_code
    with transaction.atomic():
        distributor, _created = distributor_join_qualified(
            merchant=merchant, user=user, invite_code=code, qualification=Q.APPOINTED
        )
    return distributor
