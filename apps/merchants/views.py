from typing import cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from apps.accounts import ratelimit
from apps.accounts.models import User
from apps.core.errors import DomainError

from .forms import MerchantApplicationForm, application_error_field
from .models import MerchantApplication
from .services import merchant_application_submit


@sensitive_post_parameters("password1", "password2")
def apply(request: HttpRequest) -> HttpResponse:
    """Public 商家入驻 form: creates the applicant's account and the application, then signs in."""
    status = 200
    if request.method == "POST":
        wait = ratelimit.attempts(("merchant-apply", ratelimit.client_ip(request)))
        if wait is not None:
            initial = ratelimit.submitted(request, "password1", "password2")
            context = {"form": MerchantApplicationForm(initial=initial)}
            return ratelimit.refused(request, "merchants/apply.html", context, wait=wait)
        form = MerchantApplicationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = merchant_application_submit(
                    username=data["username"],
                    password=data["password1"],
                    store_name=data["store_name"],
                    slug=data["slug"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    description=data["description"],
                )
            except DomainError as error:
                form.add_error(application_error_field(error.code), error.message)
                status = error.status
            else:
                login(
                    request,
                    application.applicant,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
                messages.success(request, _("Your application has been received."))
                return redirect("merchants:apply-status")
        else:
            status = 400
    else:
        form = MerchantApplicationForm()
    return render(request, "merchants/apply.html", {"form": form}, status=status)


@login_required
def apply_status(request: HttpRequest) -> HttpResponse:
    application = (
        MerchantApplication.objects.filter(applicant=cast(User, request.user))
        .select_related("merchant")
        .order_by("-created_at", "-id")
        .first()
    )
    return render(
        request,
        "merchants/apply_status.html",
        {"application": application, "Status": MerchantApplication.Status},
    )
