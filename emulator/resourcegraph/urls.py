"""ARM paths served for Resource Graph."""

from __future__ import annotations

import re

from emulator.resourcegraph import responses
from emulator.routing import Route

url_paths = [
    Route(
        re.compile(r"^/providers/Microsoft\.ResourceGraph/resources/?$", re.I),
        {"POST": responses.query_resources},
        headers=responses.quota_headers,
    ),
]
