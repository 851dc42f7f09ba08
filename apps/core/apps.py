from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db import models
        from rest_framework import serializers

        from .api_schema import EraDateTimeField

        # Every model date-time the API reads is of this era (see EraDateTimeField).
        serializers.ModelSerializer.serializer_field_mapping[models.DateTimeField] = (
            EraDateTimeField
        )
