"""Request headers: a case-insensitive view, and the event type a provider names in them."""

from collections.abc import Iterator, Mapping

from shared.webhooks.errors import PayloadError, payload_error


class Headers(Mapping[str, str]):
    """A case-insensitive, read-only view of request headers."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._items = {str(k).lower(): str(v) for k, v in headers.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def first(self, *names: str) -> tuple[str, str] | None:
        """The first of `names` present, with its value stripped: `(name, value)`."""
        for name in names:
            value = self._items.get(name.lower())
            if value is not None:
                return name, value.strip()
        return None

    def value(self, *names: str) -> str | None:
        found = self.first(*names)
        return found[1] if found else None


def header_problem(what: str, header: str, msg: str) -> PayloadError:
    """A `PayloadError` located at `headers.<header>`."""
    return payload_error(what, f"headers.{header}", "header", msg)


def event_header(what: str, headers: Headers, *names: str) -> str:
    """The event type from the first of `names` present; a `PayloadError` when none is."""
    found = headers.first(*names)
    if found is None or not found[1]:
        raise header_problem(what, names[0], f"missing {names[0]} header: which event is this?")
    return found[1]
