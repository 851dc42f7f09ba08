from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

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
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class SignOutView(LogoutView):
    """POST only (Django's LogoutView refuses GET)."""

    next_page = settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(safe_next(request))
    status = 200
    if request.method == "POST":
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
