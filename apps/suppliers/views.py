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

from .forms import ERROR_FIELDS, SupplierApplicationForm
from .models import SupplierApplication
from .services import supplier_application_submit


@sensitive_post_parameters("password1", "password2")
def apply(request: HttpRequest) -> HttpResponse:
    """Public 供应商入驻 form: the applicant's account and the application, then signs in."""
    status = 200
    if request.method == "POST":
        wait = ratelimit.attempts(("supplier-apply", ratelimit.client_ip(request)))
        if wait is not None:
            initial = ratelimit.submitted(request, "password1", "password2")
            context = {"form": SupplierApplicationForm(initial=initial)}
            return ratelimit.refused(request, "suppliers/apply.html", context, wait=wait)
        form = SupplierApplicationForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = supplier_application_submit(
                    username=data["username"],
                    password=data["password1"],
                    company_name=data["company_name"],
                    slug=data["slug"],
                    categories=data["categories"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    licence=data["licence"],
                )
            except DomainError as error:
                form.add_error(ERROR_FIELDS.get(error.code), error.message)
                status = error.status
            else:
                login(
                    request,
                    application.applicant,
                    backend="django.contrib.auth.backends.ModelBackend",
                )
                messages.success(request, _("Your application has been received."))
                return redirect("suppliers:apply-status")
        else:
            status = 400
    else:
        form = SupplierApplicationForm()
    return render(request, "suppliers/apply.html", {"form": form}, status=status)


@login_required
def apply_status(request: HttpRequest) -> HttpResponse:
    application = (
        SupplierApplication.objects.filter(applicant=cast(User, request.user))
        .order_by("-created_at", "-id")
        .first()
    )
    return render(
        request,
        "suppliers/apply_status.html",
        {"application": application, "Status": SupplierApplication.Status},
    )
