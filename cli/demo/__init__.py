"""`arcwave demo`: the whole product on the local stack, end to end.

    emulator (scenarios/demo.yaml) + devhost (the function app, SQLite store)
    PUT /api/tracks/baseline                      scenarios/demo/track.yaml
    POST /api/hooks/github  good commit           → followed live until Succeeded
    POST /api/hooks/github  bad0… commit          → canary fails, rollback → RolledBack
    summary; the bad commit must never reach a wave after the canary

Both services run as child processes of this command; their logs go to the state folder.
`--keep-serving` leaves them up until Ctrl-C so the API can be tried by hand.

    stack.py     the emulator and devhost: start, settings, stop
    scenario.py  the track, the two pushes and their rollouts followed live
    verdict.py   what must hold once both rollouts ended
    summary.py   the summary table, the verdict's lines and how to reach the API
    command.py   the command: state folder, signals, exit code
"""

from cli.demo.command import run_demo

__all__ = ["run_demo"]
