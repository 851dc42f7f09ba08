from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.debug import sensitive_post_parameters

from apps.accounts.applications import application_apply_view
from apps.accounts.models import User

from .forms import SupplierApplicationForm
from .models import SupplierApplication
from .services import supplier_application_submit


@sensitive_post_parameters("password1", "password2")
def apply(request: HttpRequest) -> HttpResponse:
    """Public 供应商入驻 form: the applicant's account and the application, then signs in."""
    return application_apply_view(
        request,
        form_class=SupplierApplicationForm,
        submit=lambda data: supplier_application_submit(
            username=data["username"],
            password=data["password1"],
            company_name=data["company_name"],
            slug=data["slug"],
            categories=data["categories"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            contact_email=data["contact_email"],
            licence=data["licence"],
        ),
        template="suppliers/apply.html",
        rate_scope="supplier-apply",
        status_url="suppliers:apply-status",
    )


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
