"""Input fields stricter than DRF's defaults: wrong JSON types are errors, not coerced."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, not "yes", 1 or "on"."""

    default_error_messages = {"not_a_boolean": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into strings."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictRegexField(StrictCharField, serializers.RegexField):
    """A RegexField that refuses numbers and booleans (RegexField would take 0 as "0")."""


@extend_schema_field({"type": "object"})  # spectacular adds the "null" for allow_null
class NullableJSONObjectField(serializers.JSONField):
    """A JSON object or null (drf-spectacular would describe JSONField(allow_null) as an ambiguous oneOf)."""

    default_error_messages = {"not_an_object": "Must be a JSON object or null."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if data is not None and not isinstance(data, dict):
            self.fail("not_an_object")
        return super().to_internal_value(data)  # type: ignore[arg-type]


class DayRangeQuery(serializers.Serializer):
    """
    A query serializer with `from` and `to`: whole days (`YYYY-MM-DD`), both
    included, handed on as `<day_range_prefix>_from` and `_to`. (`from` is a Python
    keyword, so the two cannot be declared in a class body.)
    """

    day_range_prefix = "on"

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
        fields["to"] = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        for name in ("from", "to"):
            if name in attrs:
                attrs[f"{self.day_range_prefix}_{name}"] = attrs.pop(name)
        return attrs


def ordering_values(names: Any) -> list[str]:
    """Every `?ordering=` value a list accepts: each name ascending, then `-name` descending."""
    return [value for name in names for value in (name, f"-{name}")]


class OrderingField(serializers.ChoiceField):
    """`?ordering=`: one of `names` (ascending) or `-name` (descending); `default` without one."""

    def __init__(self, names: Any, *, default: str) -> None:
        super().__init__(
            choices=ordering_values(names),
            required=False,
            default=default,
            help_text="A column, `-` first for descending; ties follow the id.",
        )


def ordering_parameter(names: Any, *, default: str) -> OpenApiParameter:
    """The OpenAPI description of an OrderingField's query parameter (an enum)."""
    return OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        enum=ordering_values(names),
        default=default,
        description=f"Sort by a column (`-` first for descending; ties follow the id). Default `{default}`. "
        "A cursor only continues the ordering it came from.",
    )
