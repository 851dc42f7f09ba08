"""OpenAPI helpers shared by the apps' API serializers.

Several models have a ``status`` with different choices (order, distributor, commission…), and each
appears in more than one serializer. drf-spectacular then cannot name the enums without a
collision warning; a ``NamedChoiceField`` names its enum component explicitly instead.
"""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_field
from rest_framework import serializers


class NamedChoiceField(serializers.ChoiceField):
    """A ChoiceField documented as the enum component ``enum_name`` (e.g. ``OrderStatusEnum``)."""

    def __init__(self, choices: Any, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict:
        schema = build_choice_field(self.target)
        schema.pop("x-spec-enum-id", None)
        return schema
