"""The Resource Graph queries arcwave sends, built from domain values.

They stay inside the KQL subset the emulator documents (docs/emulator.md): `where` with `=~`,
`==`, `in`, `in~`, `and`, `tags['k']`, `tostring()`, `extend`, `project`, `order by`. Every
query projects `id`, which Resource Graph needs to page with `$skipToken`.
"""

from collections.abc import Iterable

from shared.trackspec import FleetSelection

CONNECTED_CLUSTERS = "microsoft.kubernetes/connectedclusters"
FLUX_CONFIGURATION_TYPE = "microsoft.kubernetesconfiguration/fluxconfigurations"


def quote(value: str) -> str:
    """A KQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(quote(v) for v in values) + ")"


_CLUSTER_COLUMNS = [
    "| extend connectivityStatus = tostring(properties.connectivityStatus)",
    "| project id, name, resourceGroup, subscriptionId, location, tags, connectivityStatus",
    "| order by id asc",
]


def discover_clusters(selection: FleetSelection) -> str:
    """Arc clusters of the selection's resource groups (subscriptions go alongside).

    Tags are not filtered here: in Resource Graph `tags['env']` is case-sensitive on the tag
    name, while Azure tag names are not (`Env` is `env`); the fleet gateway filters tags on
    what comes back, as Azure compares them."""
    lines = ["resources", f"| where type =~ {quote(CONNECTED_CLUSTERS)}"]
    if selection.resource_groups:
        lines.append(f"| where resourceGroup in~ {_in(selection.resource_groups)}")
    return "\n".join(lines + _CLUSTER_COLUMNS)


def describe_clusters(cluster_ids: Iterable[str]) -> str:
    """The given clusters with the columns discovery returns."""
    return "\n".join(
        [
            "resources",
            f"| where type =~ {quote(CONNECTED_CLUSTERS)}",
            f"| where id in~ {_in(cluster_ids)}",
            *_CLUSTER_COLUMNS,
        ]
    )


def flux_configurations(configuration_ids: Iterable[str]) -> str:
    """The given fluxConfigurations with their status properties."""
    return "\n".join(
        [
            "kubernetesconfigurationresources",
            f"| where type =~ {quote(FLUX_CONFIGURATION_TYPE)}",
            f"| where id in~ {_in(configuration_ids)}",
            "| project id, name, properties",
            "| order by id asc",
        ]
    )
