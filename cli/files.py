"""Reading the files a command is given: a missing or unreadable one is a usage error (exit 2)
naming the option."""

from pathlib import Path

from cli.errors import UsageError


def read_text(path: Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{option} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{option} {path}: is a directory, expected a file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{option} {path}: cannot read it ({error})") from None
