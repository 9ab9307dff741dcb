"""The durableClient input binding: the JSON string the real host passes to client functions."""

from __future__ import annotations

import json
from urllib.parse import quote

WEBHOOK_PATH = "/runtime/webhooks/durabletask"
RPC_PATH = "/durabletask"
INSTANCE_PLACEHOLDER = "INSTANCEID"


def management_urls(base_url: str, hub: str, key: str, instance_id: str) -> dict[str, str]:
    """The check-status payload (`managementUrls`) for one instance, as the extension builds it."""
    root = f"{base_url}{WEBHOOK_PATH}/instances/{instance_id}"
    common = f"taskHub={quote(hub, safe='')}&connection=Storage&code={quote(key, safe='')}"
    return {
        "id": instance_id,
        "purgeHistoryDeleteUri": f"{root}?{common}",
        "restartPostUri": f"{root}/restart?{common}",
        "resumePostUri": f"{root}/resume?reason={{text}}&{common}",
        "sendEventPostUri": f"{root}/raiseEvent/{{eventName}}?{common}",
        "statusQueryGetUri": f"{root}?{common}",
        "suspendPostUri": f"{root}/suspend?reason={{text}}&{common}",
        "terminatePostUri": f"{root}/terminate?reason={{text}}&{common}",
        "rewindPostUri": f"{root}/rewind?reason={{text}}&{common}",
    }


def client_binding(base_url: str, rpc_base_url: str, hub: str, key: str) -> str:
    """JSON text for a `durableClient` binding whose URLs point at this devhost."""
    creation = f"{base_url}{WEBHOOK_PATH}/orchestrators/{{functionName}}[/{{instanceId}}]"
    return json.dumps(
        {
            "taskHubName": hub,
            "creationUrls": {
                "createNewInstancePostUri": f"{creation}?code={quote(key, safe='')}",
                "createAndWaitOnNewInstancePostUri": (
                    f"{creation}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}"
                    f"&code={quote(key, safe='')}"
                ),
            },
            "managementUrls": management_urls(base_url, hub, key, INSTANCE_PLACEHOLDER),
            "baseUrl": f"{base_url}{WEBHOOK_PATH}",
            "requiredQueryStringParameters": f"code={quote(key, safe='')}",
            "rpcBaseUrl": rpc_base_url,
        }
    )
