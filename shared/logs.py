"""How arcwave logs: the Azure SDK kept quiet, and lines a machine can read.

At the default level a rollout logs one line per decision (`activities/record.py`), the
problems (WARNING, ERROR) and little else; what each poll or each cluster does is DEBUG. The
Azure SDK logs every HTTP call at INFO (azure-core's HTTP logging policy): its loggers are set
to `ARCWAVE_SDK_LOG_LEVEL` (WARNING unless set) once, as the app starts
(`shared.runtime.check_settings_at_start`). docs/deploy.md ("Logs") says how to read them.
"""

import json
import logging

from shared.settings import LogLevel

SDK_LOGGERS = (
    "azure",
    "azure.core.pipeline.policies.http_logging_policy",
    "azure.identity",
    "azure.cosmos",
)
"""`azure` is the parent of every Azure SDK logger; the others are named too, so that a level
set on one of them elsewhere does not outlive this one."""


def set_sdk_log_level(level: LogLevel) -> None:
    """Let the Azure SDK's loggers through from `level` on."""
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(level.value)


def fields(**values: object) -> str:
    """`key=value` pairs in the order given, those whose value is None left out.

    A value with a space, a quote, an `=` or nothing in it is quoted as a JSON string, so a
    line stays one line and splits the same way whatever a message holds:
    `rollout=r1 reason=WaveStarted message="writing 2b7e0c1 to wave 'canary'"`.
    """
    return " ".join(f"{key}={_value(value)}" for key, value in values.items() if value is not None)


def _value(value: object) -> str:
    text = str(value)
    if text == "" or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text
