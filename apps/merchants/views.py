import base64
import io
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.qr import write_qrcode_image

from apps.accounts.applications import application_apply_view
from apps.accounts.models import User
from apps.accounts.views import safe_next

from .forms import MerchantApplicationForm
from .models import MerchantApplication
from .services import merchant_application_submit
from .two_factor import two_factor_confirm, two_factor_device, two_factor_setup_device


@sensitive_post_parameters("password1", "password2")
def apply(request: HttpRequest) -> HttpResponse:
    """Public 商家入驻 form: creates the applicant's account and the application, then signs in."""
    return application_apply_view(
        request,
        form_class=MerchantApplicationForm,
        submit=lambda data: merchant_application_submit(
            username=data["username"],
            password=data["password1"],
            store_name=data["store_name"],
            slug=data["slug"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            contact_email=data["contact_email"],
            description=data["description"],
        ),
        template="merchants/apply.html",
        rate_scope="merchant-apply",
        status_url="merchants:apply-status",
    )


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


def _two_factor_next(request: HttpRequest) -> str:
    return safe_next(request, reverse("admin:index"))


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the key), then enter a code."""
    user = cast(User, request.user)
    if two_factor_device(user) is not None:
        return redirect(
            f"{reverse('merchants:two-factor-verify')}?next={_two_factor_next(request)}"
        )
    device = two_factor_setup_device(user)
    error = ""
    status = 200
    if request.method == "POST":
        if two_factor_confirm(request=request, device=device, token=request.POST.get("code", "")):
            messages.success(request, _("Two-factor sign-in is set up."))
            return redirect(_two_factor_next(request))
        error, status = _("That code is not right; try the current one."), 400
    qr = io.BytesIO()
    write_qrcode_image(device.config_url, qr)
    return render(
        request,
        "merchants/two_factor_setup.html",
        {
            "qr_svg": qr.getvalue().decode(),
            "key": base64.b32encode(device.bin_key).decode().rstrip("="),
            "error": error,
            "next": _two_factor_next(request),
        },
        status=status,
    )


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Enter the current code of the authenticator to open the back office in this session."""
    user = cast(User, request.user)
    device = two_factor_device(user)
    if device is None:
        return redirect(f"{reverse('merchants:two-factor-setup')}?next={_two_factor_next(request)}")
    error = ""
    status = 200
    if request.method == "POST":
        if two_factor_confirm(request=request, device=device, token=request.POST.get("code", "")):
            return redirect(_two_factor_next(request))
        error, status = _("That code is not right; try the current one."), 400
    return render(
        request,
        "merchants/two_factor_verify.html",
        {"error": error, "next": _two_factor_next(request)},
        status=status,
    )
