"""fluxConfigurations wire errors; message templates are constants tests can import."""

from __future__ import annotations

from typing import Any

from emulator.exceptions import ArmError, BadRequest

NAME_INVALID_MSG = (
    "The fluxConfiguration name '{name}' is invalid: it must consist of lower case alphanumeric "
    "characters or '-', start and end with an alphanumeric character and be at most 63 characters"
)
REQUIRED_MSG = "'{field}' is required"
ENUM_MSG = "'{field}' must be one of {allowed}, got '{value}'"
TYPE_MSG = "'{field}' must be {expected}, got {actual}"
SOURCE_MISSING_MSG = "sourceKind '{kind}' needs the '{field}' section"
SOURCE_NOT_IN_VERSION_MSG = "sourceKind '{kind}' is not supported in api-version {api_version}"
FIELD_NOT_IN_VERSION_MSG = "'{field}' is not supported in api-version {api_version}"
REPOSITORY_REF_EMPTY_MSG = (
    "'gitRepository.repositoryRef' must set one of 'branch', 'tag', 'semver' or 'commit'"
)
URL_SCHEME_MSG = "'{field}' must be an {schemes} URL, got '{value}'"
DEPENDS_ON_UNKNOWN_MSG = (
    "kustomization '{name}' depends on '{dependency}', which is not a kustomization of this "
    "configuration"
)
DEPENDS_ON_SELF_MSG = "kustomization '{name}' cannot depend on itself"
DEPENDS_ON_CYCLE_MSG = "kustomizations have a dependency cycle: {cycle}"
KUSTOMIZATION_NAME_MSG = (
    "kustomization name '{name}' is invalid: lower case alphanumeric characters or '-', "
    "at most 63 characters"
)
UNKNOWN_PROPERTY_MSG = "'{field}' is not a property of {model}"
INVALID_FLUX_MSG = "The flux configuration is invalid: {first}"
COMMIT_FORMAT_MSG = "'gitRepository.repositoryRef.commit' must be a hex commit id, got '{value}'"
NOT_FOUND_MSG = (
    "The Resource 'Microsoft.KubernetesConfiguration/fluxConfigurations/{name}' under resource "
    "group '{resource_group}' was not found. For more details please go to "
    "https://aka.ms/ARMResourceNotFoundFix"
)
OPERATION_NOT_FOUND_MSG = "Operation '{operation_id}' was not found for fluxConfiguration '{name}'"
DELETING_MSG = "fluxConfiguration '{name}' is being deleted; retry once the deletion finished"
CREATE_ONLY_MSG = (
    "Property '{field}' of fluxConfiguration '{name}' can only be set when the configuration is "
    "created: it is '{current}' and the request asks for '{requested}'. Delete the "
    "configuration and create it again to change it."
)
CREATE_ONLY_FIELDS = ("scope", "namespace")
"""``x-ms-mutability: [read, create]`` in the fluxConfigurations spec."""


class InvalidFluxConfiguration(BadRequest):
    """Body validation failed; ``details`` holds one entry per problem."""

    code = "BadRequest"

    @classmethod
    def from_problems(cls, problems: list[tuple[str, str]]) -> InvalidFluxConfiguration:
        details: list[dict[str, Any]] = [
            {"code": "InvalidParameter", "target": target, "message": message}
            for target, message in problems
        ]
        first_target, first_message = problems[0]
        return cls(
            INVALID_FLUX_MSG.format(first=first_message), target=first_target, details=details
        )


class FluxConfigurationBeingDeleted(ArmError):
    code = "Conflict"
    status = 409


class CreateOnlyPropertyChanged(ArmError):
    """A PUT or PATCH tried to change ``scope`` or ``namespace`` of an existing configuration."""

    code = "InvalidRequestContent"
    status = 400

    @classmethod
    def check(cls, name: str, current: dict[str, Any], requested: dict[str, Any]) -> None:
        """Raise when ``requested`` (normalised properties) changes a create-only field."""
        details = [
            {
                "code": cls.code,
                "target": f"properties.{field}",
                "message": CREATE_ONLY_MSG.format(
                    field=field,
                    name=name,
                    current=current.get(field),
                    requested=requested.get(field),
                ),
            }
            for field in CREATE_ONLY_FIELDS
            if current.get(field) != requested.get(field)
        ]
        if details:
            raise cls(details[0]["message"], target=details[0]["target"], details=details)
