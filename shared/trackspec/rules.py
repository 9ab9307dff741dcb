"""The rules many track spec fields share: names, positive durations and tag maps, and how a
model validator reports its problems, each at its own field."""

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.durations import Duration

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_CONFIG_NAME = re.compile(r"[a-z0-9]([-.a-z0-9]*[a-z0-9])?")


def name_rule(pattern: re.Pattern[str], max_len: int, what: str) -> Any:
    def check(value: str) -> str:
        if len(value) > max_len or not pattern.fullmatch(value):
            raise PydanticCustomError(
                "name",
                "'{value}' is not a valid {what}: use lower-case letters, digits and '-', "
                "starting and ending with a letter or digit, at most {max_len} characters",
                {"value": value, "what": what, "max_len": max_len},
            )
        return value

    return AfterValidator(check)


TrackName = Annotated[str, name_rule(DNS_LABEL, 63, "track name")]
WaveName = Annotated[str, name_rule(DNS_LABEL, 63, "wave name")]
KustomizationName = Annotated[str, name_rule(DNS_LABEL, 63, "kustomization name")]
ConfigurationName = Annotated[str, name_rule(_CONFIG_NAME, 63, "configuration name")]
PositiveDuration = Annotated[Duration, AfterValidator(lambda d: _positive(d))]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise PydanticCustomError("duration", "must be longer than zero")
    return value


def check_tag_map(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    for key, wanted in value.items():
        if not isinstance(key, str) or not key.strip():
            raise PydanticCustomError("tag", "tag names must be non-empty text")
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            raise PydanticCustomError(
                "tag", "tag '{key}' lists no values; give a value or a non-empty list", {"key": key}
            )
        for item in values:
            if not isinstance(item, str):
                raise PydanticCustomError(
                    "tag",
                    "tag '{key}' must be text or a list of text, got {kind}",
                    {"key": key, "kind": type(item).__name__},
                )
    return value


def error(kind: str, loc: tuple[str | int, ...], value: Any, msg: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError(kind, msg.replace("{", "{{").replace("}", "}}")),
        loc=loc,
        input=value,
    )


def raise_if(errors: list[InitErrorDetails], title: str) -> None:
    if errors:
        raise ValidationError.from_exception_data(title, errors)
