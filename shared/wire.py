"""The base for every model arcwave puts on the wire: camelCase outside, snake_case inside.

Models are frozen (domain values, not mutable records) and reject unknown fields, so a typo
in a track spec or an API body is an error that names the field instead of a silent default.
"""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A frozen pydantic model with camelCase aliases that forbids unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict[str, object]:
        """The JSON-ready dict with camelCase keys, as arcwave sends and stores it."""
        return self.model_dump(mode="json", by_alias=True)
