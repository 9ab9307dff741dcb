"""ARM paths served for fluxConfigurations (matched case-insensitively, like ARM)."""

from __future__ import annotations

import re

from emulator.fluxconfigurations import responses
from emulator.routing import Route

CLUSTER = (
    r"^/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<group>[^/]+)"
    r"/providers/(?P<rp>[^/]+)/(?P<clusterType>[^/]+)/(?P<cluster>[^/]+)"
)
CONFIGS = CLUSTER + r"/providers/Microsoft\.KubernetesConfiguration/fluxConfigurations"

url_paths = [
    Route(
        re.compile(CONFIGS + r"/(?P<name>[^/]+)/operations/(?P<operation>[^/]+)$", re.I),
        {"GET": responses.get_operation},
    ),
    Route(
        re.compile(CONFIGS + r"/(?P<name>[^/]+)$", re.I),
        {
            "GET": responses.get_configuration,
            "PUT": responses.put_configuration,
            "PATCH": responses.patch_configuration,
            "DELETE": responses.delete_configuration,
        },
        write_log=True,
    ),
    Route(re.compile(CONFIGS + r"/?$", re.I), {"GET": responses.list_configurations}),
]
