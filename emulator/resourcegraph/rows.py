"""The rows of Resource Graph's ``resources`` and ``kubernetesconfigurationresources`` tables."""

from __future__ import annotations

from typing import Any

COLUMNS = [
    "id",
    "name",
    "type",
    "tenantId",
    "kind",
    "location",
    "resourceGroup",
    "subscriptionId",
    "managedBy",
    "sku",
    "plan",
    "properties",
    "tags",
    "identity",
    "zones",
    "extendedLocation",
]
EMPTY_TEXT = frozenset({"kind", "location", "managedBy"})
"""Columns ARG reports as ``""`` for a resource without a value; the others are null."""
LOWER_CASED = ("type", "resourceGroup")
"""Columns ARG lower-cases, whatever the resource's own spelling."""


def arg_row(resource_id: str, tenant_id: str, **columns: Any) -> dict[str, Any]:
    """A row with every column in ARG's order. ``name``, ``type``, ``resourceGroup`` and
    ``subscriptionId`` come from the resource id, as in ARG (``type`` of an extension resource
    is its own, after the last ``/providers/``); other columns are ``columns`` where given,
    else ARG's empty value."""
    unknown = columns.keys() - set(COLUMNS)
    if unknown:
        raise ValueError(f"not Resource Graph columns: {sorted(unknown)}")
    parts = resource_id.split("/")
    # /subscriptions/{sub}/resourceGroups/{group}/providers/{namespace}/{type}/{name}[/providers/…]
    provider = len(parts) - parts[::-1].index("providers")
    values = {
        "id": resource_id,
        "name": parts[-1],
        "type": "/".join(parts[provider:-1]),
        "tenantId": tenant_id,
        "resourceGroup": parts[4],
        "subscriptionId": parts[2],
        **columns,
    }
    row = {column: values.get(column, "" if column in EMPTY_TEXT else None) for column in COLUMNS}
    for column in LOWER_CASED:
        row[column] = str(row[column]).lower()
    return row
