"""Reading a verified body: bytes to a JSON object, then to a typed payload, with clear errors.

Every refusal is a `PayloadError` whose problems name the field (`body`, `repository`,
`commits[0].added[0]`) and stay short whatever the input: messages and echoed inputs are cut.
"""

from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs

import pydantic_core
from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError, create_model
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, core_schema

from shared.problems import Problem, problems_from
from shared.webhooks.errors import PayloadError, payload_error, shortened
from shared.webhooks.headers import Headers

MAX_BODY_BYTES = 25 * 1024 * 1024
"""GitHub's payload cap; larger bodies are refused before any parsing."""

ModelT = TypeVar("ModelT", bound=BaseModel)


class PayloadModel(BaseModel):
    """A provider payload: strict JSON types, unknown fields ignored, frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class CamelPayloadModel(PayloadModel):
    """A payload with camelCase wire names (Azure DevOps, Flux), snake_case fields here."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, strict=True, alias_generator=to_camel, validate_by_name=True
    )


def load_json_object(what: str, headers: Headers, body: bytes) -> dict[str, Any]:
    """The body as a JSON object (or the `payload=` field of a form-encoded body)."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise payload_error(what, "body", "body", "the body must be bytes")
    raw = bytes(body)
    if len(raw) > MAX_BODY_BYTES:
        raise payload_error(what, "body", "too_large", "the body is over 25 MiB")
    content_type = (headers.value("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        raw = _form_payload(what, raw)
    if not raw.strip():
        raise payload_error(what, "body", "empty", "the body is empty")
    try:
        value = pydantic_core.from_json(raw, allow_inf_nan=False)
    except ValueError as error:
        raise payload_error(
            what, "body", "json_invalid", f"not JSON: {shortened(str(error))}"
        ) from None
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise payload_error(what, "body", "not_an_object", f"expected a JSON object, got {kind}")
    return value


def _form_payload(what: str, raw: bytes) -> bytes:
    try:
        fields = parse_qs(raw.decode("utf-8"), strict_parsing=True, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        fields = {}
    payload = fields.get("payload")
    if not payload or len(payload) != 1:
        raise payload_error(
            what, "body.payload", "missing", "a form body needs one 'payload' field"
        )
    return payload[0].encode("utf-8", "surrogatepass")


def validate(what: str, model: type[ModelT], data: Any, prefix: tuple[str, ...] = ()) -> ModelT:
    """`model` validated from `data`; every problem as a `PayloadError` located by field path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise PayloadError(
            what, [_bounded(p) for p in problems_from(error, prefix=prefix)]
        ) from None


def _bounded(problem: Problem) -> Problem:
    value = problem.input
    if isinstance(value, str):
        value = shortened(value)
    elif not (value is None or isinstance(value, bool | int | float)):
        value = type(value).__name__
    return Problem(problem.loc, problem.type, shortened(problem.msg, 300), value)


Strings = tuple[str | None, ...]


class OptionalStrings:
    """A payload object read only for a few optional strings: the field holds their values.

    For the objects a push payload gives only to name something several ways (a repository's
    URLs, a pusher's names), so that no model needs declaring for them:
    `repository: Annotated[Strings, OptionalStrings("_Repository", "clone_url", "ssh_url")]`
    holds `(clone_url, ssh_url)`. Each key must be a string or null, a problem names it
    (`repository.clone_url`) and other keys are ignored. The object is validated as a `base`
    model called `name`: a value that is not an object is "not an instance of `name`", and with
    `base=CamelPayloadModel` the keys are read in camelCase.
    """

    def __init__(self, name: str, *keys: str, base: type[PayloadModel] = PayloadModel) -> None:
        self.name, self.keys, self.base = name, keys, base

    def __get_pydantic_core_schema__(self, _: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        fields: dict[str, Any] = dict.fromkeys(self.keys, (str | None, None))
        model = create_model(self.name, __base__=self.base, **fields)
        return core_schema.no_info_after_validator_function(
            lambda found: tuple(getattr(found, key) for key in self.keys),
            handler.generate_schema(model),
        )


def first_name(names: Sequence[str | None] | None) -> str | None:
    """The first of `names` given and not empty (`a or b or c`); None when there are none."""
    return next((name for name in names if name), names[-1]) if names else None
