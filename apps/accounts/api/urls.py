from django.urls import URLPattern

# ``auth/token/`` (``accounts.api.views.TokenView``) is routed by apps.merchants.api, whose
# subclass also asks for the two-factor code of the users who must use one.
public_urlpatterns: list[URLPattern] = []
