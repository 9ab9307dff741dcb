"""The commands that talk to a running app (docs/cli.md): contexts, tracks, rollouts and the
reads that go with them. The offline ones (`validate`, `plan --fleet`, `demo`) are in
cli/main.py."""
