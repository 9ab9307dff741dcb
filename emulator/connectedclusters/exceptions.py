"""connectedClusters wire errors and their message templates."""

from __future__ import annotations

from emulator.exceptions import ArmError, ResourceNotFound

CLUSTER_NOT_FOUND_MSG = (
    "The Resource 'Microsoft.Kubernetes/connectedClusters/{name}' under resource group "
    "'{resource_group}' was not found. For more details please go to "
    "https://aka.ms/ARMResourceNotFoundFix"
)
RESOURCE_GROUP_NOT_FOUND_MSG = "Resource group '{resource_group}' could not be found."
SUBSCRIPTION_NOT_FOUND_MSG = "The subscription '{subscription}' could not be found."


class ClusterNotFound(ResourceNotFound):
    code = "ResourceNotFound"


class ResourceGroupNotFound(ArmError):
    code = "ResourceGroupNotFound"
    status = 404


class SubscriptionNotFound(ArmError):
    code = "SubscriptionNotFound"
    status = 404
