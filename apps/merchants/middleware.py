from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .two_factor import two_factor_device, two_factor_required


class TwoFactorMiddleware:
    """A signed-in user who must use two-factor sign-in and has not entered a code in this session
    reaches no back-office page (sent to set up an authenticator or to enter a code) and no
    session-authenticated API (401 ``otp_required``). Only reads: the views write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        guarded = path.startswith("/admin/") or path.startswith("/api/")
        if (
            guarded
            and not path.startswith("/admin/logout/")
            and request.user.is_authenticated
            # django-otp's OTPMiddleware attaches is_verified() to request.user at run time.
            and not request.user.is_verified()  # type: ignore[attr-defined]
            and two_factor_required(request.user)
        ):
            if path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _("Two-factor verification is required: sign in again."),
                        "code": "otp_required",
                    },
                    status=401,
                )
            step = "verify" if two_factor_device(request.user) else "setup"  # type: ignore[arg-type]
            target = reverse(f"merchants:two-factor-{step}")
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
