"""The `arcwave` command."""
