"""The distributor programme's pages under /s/<store>/d/: apply (with the application's outcome),
tier progress, and bound customers with the time left on each binding."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.errors import DomainError
from apps.distributors.middleware import request_device_id, request_ip
from apps.distributors.models import Distributor, ProgrammeSettings
from apps.distributors.recruitment import application_latest, application_submit
from apps.distributors.selectors import (
    bound_customers,
    distributor_for_user,
    programme_settings_for,
)
from apps.distributors.services import distributor_get_by_code
from apps.merchants.models import Merchant
from apps.programme.tiers import tier_progress

from .views import (
    SignedInRequest,
    _remembered_invite_code,
    distributor_required,
    render_store,
    store_login_required,
    store_view,
)

Mode = ProgrammeSettings.RecruitmentMode


class ApplicationForm(forms.Form):
    """The merchant's questions (one required text field each) and the inviter's code."""

    invite_code = forms.CharField(
        label=gettext_lazy("Invite code"),
        max_length=32,
        required=False,
        help_text=gettext_lazy("Optional: the code of the distributor who invited you."),
    )

    def __init__(self, *args, questions: list[str], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.questions = questions
        for index, question in enumerate(questions):
            self.fields[f"answer_{index}"] = forms.CharField(
                label=question, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
            )

    def answers(self) -> list[str]:
        return [self.cleaned_data[f"answer_{index}"] for index in range(len(self.questions))]


@require_http_methods(["GET", "POST"])
@store_view
@store_login_required
def distributor_apply(request: SignedInRequest, merchant: Merchant) -> HttpResponse:
    """申请: the application form in application mode, and the latest application's outcome; in the
    other modes, how one becomes a distributor of this store."""
    if distributor_for_user(merchant=merchant, user=request.user) is not None:
        return redirect("storefront:distributor-earnings", slug=merchant.slug)
    settings = programme_settings_for(merchant=merchant)
    if settings.recruitment_mode == Mode.EVERYONE:
        return redirect("storefront:distributor-join", slug=merchant.slug)
    application = application_latest(merchant=merchant, user=request.user)
    status = 200
    form = None
    if settings.recruitment_mode == Mode.APPLICATION:
        questions = list(settings.application_questions)
        if request.method == "POST":
            form = ApplicationForm(request.POST, questions=questions)
            if form.is_valid():
                try:
                    application_submit(
                        merchant=merchant,
                        user=request.user,
                        answers=form.answers(),
                        invite_code=form.cleaned_data["invite_code"],
                        ip=request_ip(request),
                        device=request_device_id(request),
                    )
                except DomainError as error:
                    field = "invite_code" if "invite_code" in error.code else None
                    form.add_error(field, error.message)
                    status = error.status
                else:
                    messages.success(
                        request, _("Thank you! Your application is waiting for review.")
                    )
                    return redirect("storefront:distributor-apply", slug=merchant.slug)
            else:
                status = 400
        else:
            code = _remembered_invite_code(request, merchant)
            initial = ""
            if code:
                try:
                    initial = distributor_get_by_code(merchant=merchant, code=code).invite_code
                except DomainError:
                    initial = ""
            form = ApplicationForm(initial={"invite_code": initial}, questions=questions)
    elif request.method == "POST":
        return HttpResponse(status=405)
    pending = application is not None and application.status == application.Status.PENDING
    return render_store(
        request,
        merchant,
        "storefront/distributor/apply.html",
        {
            "settings": settings,
            "application": application,
            "form": None if pending else form,
            "mode": settings.recruitment_mode,
        },
        status,
    )


@require_GET
@store_view
@distributor_required
def distributor_tier(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    return render_store(
        request,
        merchant,
        "storefront/distributor/tier.html",
        {"distributor": distributor, "progress": tier_progress(distributor=distributor)},
    )


@require_GET
@store_view
@distributor_required
def distributor_customers(
    request: SignedInRequest, merchant: Merchant, distributor: Distributor
) -> HttpResponse:
    now = timezone.now()
    bindings = list(bound_customers(distributor=distributor, now=now)[:200])
    for binding in bindings:
        binding.time_left = binding.expires_at - now if binding.expires_at else None  # type: ignore[attr-defined]
    return render_store(
        request,
        merchant,
        "storefront/distributor/customers.html",
        {"distributor": distributor, "bindings": bindings},
    )
