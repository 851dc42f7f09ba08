"""OpenAPI helpers shared by the apps' API serializers.

Several models have a ``status`` with different choices (order, distributor, commission…), and each
appears in more than one serializer. drf-spectacular then cannot name the enums without a
collision warning; a ``NamedChoiceField`` names its enum component explicitly instead.
"""

from typing import Any

from django.utils.translation import gettext as _
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


# --- The error answers, documented once ---------------------------------------------------------

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a sentence for people and a stable code for programs.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the user's language."},
        "code": {
            "type": "string",
            "description": "Stable machine-readable reason, e.g. `not_found`, `invalid_transition`.",
        },
    },
    "required": ["detail", "code"],
}
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Invalid input: each field (or `non_field_errors`) with its messages.",
    "additionalProperties": {},
}
ERROR_RESPONSES = {
    "400": ("BadRequest", "The input is invalid.", True),
    "401": ("Unauthorized", "No credentials, or invalid ones (an invalid token always).", False),
    "403": ("Forbidden", "The caller may not do this (or two-factor sign-in is pending).", False),
    "404": ("NotFound", "No such object for this caller (another tenant's ids too).", False),
    "409": ("Conflict", "The object's state does not allow it (already decided, paid…).", False),
    "429": ("TooManyRequests", "Rate limit reached; try again later.", False),
}


def _error_response(description: str, *, field_errors: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": "#/components/schemas/Error"}
    if field_errors:
        schema = {"anyOf": [schema, {"$ref": "#/components/schemas/FieldErrors"}]}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _throttled_operations(generator: Any) -> set[tuple[str, str]]:
    throttled = set()
    for path, _regex, method, view in getattr(generator, "endpoints", None) or []:
        view_class = getattr(view, "cls", None)
        if view_class is not None and getattr(view_class, "throttle_classes", None):
            throttled.add((path, method.lower()))
    return throttled


def error_responses_postprocess(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the error component (``detail``, ``code``, what
    ``apps.core.api_errors`` answers) and its responses, defined once under ``components`` and
    referenced from every operation for 400, 401, 403, 404 and 409 (and 429 where the view is
    rate-limited)."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["FieldErrors"] = FIELD_ERRORS_SCHEMA
    responses = components.setdefault("responses", {})
    for name, description, field_errors in ERROR_RESPONSES.values():
        responses[name] = _error_response(description, field_errors=field_errors)
    throttled = _throttled_operations(generator)
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, (name, _description, _fields) in ERROR_RESPONSES.items():
                if status == "429" and (path, method) not in throttled:
                    continue
                operation["responses"].setdefault(
                    status, {"$ref": f"#/components/responses/{name}"}
                )
    return result


class QueryChoiceField(serializers.ChoiceField):
    """A choice in the query string: ``?period=`` (blank) is refused like any other value not in
    the enum, instead of silently meaning the default as DRF's form handling would."""

    def get_value(self, dictionary: Any) -> Any:
        if hasattr(dictionary, "getlist") and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class EraDateTimeField(serializers.DateTimeField):
    """A date-time of this era (2000–2999). Older ones would come back with a local-mean-time
    offset (Asia/Shanghai before 1901: ``+08:05:43``) that is no RFC 3339 date-time and that no
    client parses. The API's model serializers use it for every ``DateTimeField``
    (``CoreConfig.ready``)."""

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if not 2000 <= parsed.year <= 2999:
            raise serializers.ValidationError(_("Choose a time from the year 2000 on."))
        return parsed
