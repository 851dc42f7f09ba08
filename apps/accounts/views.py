from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from . import ratelimit
from .forms import SignupForm


def safe_next(request: HttpRequest, default: str = settings.LOGIN_REDIRECT_URL) -> str:
    """The ``next`` parameter when it points inside this site, otherwise ``default``."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class SignInView(LoginView):
    """Sign-in, limited per client IP and per username (guessing one account from many IPs)."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = request.POST.get("username", "")
        limits = [("login-ip", ratelimit.client_ip(request))]
        if username.strip():
            limits.append(("login-username", username.strip().casefold()))
        wait = ratelimit.attempts(*limits)
        if wait is not None:
            # Unbound: validating the form would check the password.
            form = self.get_form_class()(request, initial={"username": username})
            context = self.get_context_data(form=form)
            return ratelimit.refused(request, self.template_name, context, wait=wait)
        return super().post(request, *args, **kwargs)


class SignOutView(LogoutView):
    """POST only (Django's LogoutView refuses GET)."""

    next_page = settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(safe_next(request))
    status = 200
    if request.method == "POST":
        wait = ratelimit.attempts(("signup", ratelimit.client_ip(request)))
        if wait is not None:
            form = SignupForm(initial=ratelimit.submitted(request, "password1", "password2"))
            context = {"form": form, "next": safe_next(request, "")}
            return ratelimit.refused(request, "accounts/signup.html", context, wait=wait)
        form = SignupForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(safe_next(request))
        status = 400
    else:
        form = SignupForm()
    return render(
        request,
        "accounts/signup.html",
        {"form": form, "next": safe_next(request, "")},
        status=status,
    )
