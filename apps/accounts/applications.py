"""Public applications to join the platform, reviewed by the operator: what 商家入驻 (merchants) and
供应商入驻 (suppliers) share.

Both ask for a new sign-in and the business's contacts, both are approved or rejected (with a
reason) once, and both sign the applicant in to a status page. The pieces here carry that; each
kind adds what it asks for (a store address and what it sells; a company code, categories and a
business licence) and what approval opens (a merchant, a supplier).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.errors import Conflict, DomainError

from . import ratelimit
from .models import User


class Application(models.Model):
    """The reviewed part of an application. Concrete applications add their ``applicant``, what
    they ask for, the record approval links them to, and their ``Meta``."""

    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("Pending review")
        APPROVED = "approved", gettext_lazy("Approved")
        REJECTED = "rejected", gettext_lazy("Rejected")

    contact_name = models.CharField(gettext_lazy("contact name"), max_length=64)
    contact_phone = models.CharField(gettext_lazy("contact phone"), max_length=32)
    contact_email = models.EmailField(gettext_lazy("contact email"))
    status = models.CharField(
        gettext_lazy("status"), max_length=16, choices=Status, default=Status.PENDING
    )
    reject_reason = models.CharField(gettext_lazy("reject reason"), max_length=255, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("reviewed by"),
    )
    reviewed_at = models.DateTimeField(gettext_lazy("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)

    class Meta:
        abstract = True


A = TypeVar("A", bound=Application)


def applicant_account_create(*, username: str, password: str, email: str) -> User:
    """The applicant's sign-in (no back office until approved). Call it inside the transaction
    that writes the application, so that a refused application leaves no account behind."""
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise DomainError(error.messages[0], code="invalid_username") from error
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("That username is taken."), code="username_taken")
    try:
        with transaction.atomic():
            return User.objects.create(
                username=username, password=make_password(password), email=email
            )
    except IntegrityError as error:
        raise DomainError(_("That username is taken."), code="username_taken") from error


def application_lock_pending(model: type[A], application_id: int) -> A | None:
    """The application, row-locked, if it is still pending; None if there is no such one.
    Raises ``Conflict`` when it was reviewed already."""
    application = model._default_manager.select_for_update().filter(pk=application_id).first()
    if application is not None and application.status != Application.Status.PENDING:
        raise Conflict(_("This application has already been reviewed."))
    return application


def application_mark_approved(application: A, *, reviewer: User, **opened: Any) -> None:
    """Record the approval and what it opened (``merchant=…`` / ``supplier=…``)."""
    application.status = Application.Status.APPROVED
    application.reviewed_by = reviewer
    application.reviewed_at = timezone.now()
    for name, value in opened.items():
        setattr(application, name, value)
    application.save(update_fields=["status", "reviewed_by", "reviewed_at", *opened])


def application_reject(model: type[A], *, application_id: int, reviewer: User, reason: str) -> A:
    """Reject a pending application with a reason for the applicant; returns it as stored."""
    reason = reason.strip()
    if not reason:
        raise DomainError(_("Give the applicant a reason."), code="reason_required")
    updated = model._default_manager.filter(
        pk=application_id, status=Application.Status.PENDING
    ).update(
        status=Application.Status.REJECTED,
        reject_reason=reason[:255],
        reviewed_by=reviewer,
        reviewed_at=timezone.now(),
    )
    if not updated:
        raise Conflict(_("This application has already been reviewed."))
    return model._default_manager.get(pk=application_id)


class ApplicantAccountForm(forms.Form):
    """The new sign-in every application asks for; subclasses add the business's fields."""

    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    password1 = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=gettext_lazy("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    # Which form field a service refusal belongs to, by its code (None: the whole form).
    error_fields: dict[str, str] = {
        "slug_taken": "slug",
        "username_taken": "username",
        "invalid_username": "username",
    }

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        User.username_validator(username)
        return username

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"].strip().lower()

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            try:
                password_validation.validate_password(
                    password1, User(username=cleaned.get("username", ""))
                )
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


def application_apply_view(
    request: HttpRequest,
    *,
    form_class: type[ApplicantAccountForm],
    submit: Callable[[dict[str, Any]], Application],
    template: str,
    rate_scope: str,
    status_url: str,
) -> HttpResponse:
    """The public application page: rate-limited per client IP; a valid application creates the
    account and the application, signs the applicant in and shows the status page."""
    status = 200
    if request.method == "POST":
        wait = ratelimit.attempts((rate_scope, ratelimit.client_ip(request)))
        if wait is not None:
            initial = ratelimit.submitted(request, "password1", "password2")
            context = {"form": form_class(initial=initial)}
            return ratelimit.refused(request, template, context, wait=wait)
        form = form_class(request.POST, request.FILES)
        if form.is_valid():
            try:
                application = submit(form.cleaned_data)
            except DomainError as error:
                form.add_error(form.error_fields.get(error.code), error.message)
                status = error.status
            else:
                login(
                    request,
                    application.applicant,  # type: ignore[attr-defined]
                    backend="django.contrib.auth.backends.ModelBackend",
                )
                messages.success(request, _("Your application has been received."))
                return redirect(status_url)
        else:
            status = 400
    else:
        form = form_class()
    return render(request, template, {"form": form}, status=status)
