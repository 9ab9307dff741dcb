"""ARM paths served for connectedClusters (matched case-insensitively, like ARM)."""

from __future__ import annotations

import re

from emulator.connectedclusters import responses
from emulator.routing import Route

SUBSCRIPTION = r"^/subscriptions/(?P<subscription>[^/]+)"
GROUP = SUBSCRIPTION + r"/resourceGroups/(?P<group>[^/]+)"
CLUSTERS = r"/providers/Microsoft\.Kubernetes/connectedClusters"

url_paths = [
    Route(
        re.compile(GROUP + CLUSTERS + r"/(?P<cluster>[^/]+)$", re.I), {"GET": responses.get_cluster}
    ),
    Route(re.compile(GROUP + CLUSTERS + r"/?$", re.I), {"GET": responses.list_by_resource_group}),
    Route(
        re.compile(SUBSCRIPTION + CLUSTERS + r"/?$", re.I), {"GET": responses.list_by_subscription}
    ),
]
