"""What every provider shares: provider names, secrets, bodies that are not payloads, no leaks."""

from collections.abc import Callable

import pytest
from pydantic import SecretStr
from webhooks_support import (
    BITBUCKET,
    GITEA,
    GITHUB,
    GITLAB,
    OTHER_SECRET,
    SECRET,
    Hook,
    Signer,
    bitbucket_push,
    dumps,
    github_push,
    raw,
    sample_bodies,
    sign_github,
)

from shared import settings
from shared.webhooks import (
    PROVIDERS,
    Ignored,
    PayloadError,
    Ping,
    Push,
    SignatureError,
    UnknownProvider,
    WebhookConfigError,
    WebhookError,
    parse_webhook,
    provider_name,
    pushes_in,
)
from shared.webhooks.body import MAX_BODY_BYTES

SAMPLES = sample_bodies()
UNSIGNED = {"gitlab", "azuredevops"}
IDS = [f"{provider}-{index}" for index, (provider, _, _) in enumerate(SAMPLES)]


def test_the_five_providers() -> None:
    assert set(PROVIDERS) == {"github", "gitlab", "azuredevops", "bitbucket", "gitea"}


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("GitHub", "github"), (" gitlab ", "gitlab"), ("forgejo", "gitea"), ("Gogs", "gitea")],
)
def test_provider_names(name: str, canonical: str) -> None:
    assert provider_name(name) == canonical


def test_unknown_provider() -> None:
    with pytest.raises(UnknownProvider, match=r"known: .*github"):
        parse_webhook("svn", {}, b"{}", SECRET)


@pytest.mark.parametrize("secrets", [None, "", "   ", [], ["", " "]])
@pytest.mark.parametrize("provider", PROVIDERS)
def test_no_secret_configured_is_a_config_error(provider: str, secrets: object) -> None:
    with pytest.raises(WebhookConfigError, match=provider) as caught:
        parse_webhook(provider, {}, b"{}", secrets)  # type: ignore[arg-type]
    assert not isinstance(caught.value, SignatureError | PayloadError)


@pytest.mark.parametrize(("provider", "body", "sign"), SAMPLES, ids=IDS)
def test_every_sample_verifies_and_parses(provider: str, body: bytes, sign: Signer) -> None:
    try:
        result = parse_webhook(provider, sign(body), body, SECRET)
    except PayloadError as error:  # the 2024 Azure DevOps sample puts GUIDs where SHAs belong
        assert provider == "azuredevops"
        assert "newObjectId" in str(error)
        return
    assert isinstance(result, Ping | Ignored | Push)
    for push in pushes_in(result):
        assert len(push.commit) == 40


@pytest.mark.parametrize(("provider", "body", "sign"), SAMPLES, ids=IDS)
def test_every_sample_refuses_a_wrong_secret(provider: str, body: bytes, sign: Signer) -> None:
    with pytest.raises(SignatureError):
        parse_webhook(provider, sign(body), body, OTHER_SECRET)


@pytest.mark.parametrize(("provider", "body", "sign"), SAMPLES, ids=IDS)
def test_every_sample_refuses_a_truncated_body(provider: str, body: bytes, sign: Signer) -> None:
    cut = body[: len(body) // 2]
    if provider in UNSIGNED:  # a token proves the sender, not the body
        with pytest.raises(PayloadError, match="not JSON"):
            parse_webhook(provider, sign(body), cut, SECRET)
    else:
        with pytest.raises(SignatureError):  # signed in full, delivered in part
            parse_webhook(provider, sign(body), cut, SECRET)
    with pytest.raises(PayloadError, match="not JSON"):  # signed as cut
        parse_webhook(provider, sign(cut), cut, SECRET)


NOT_PUSHES: list[tuple[Hook, bytes, list[str]]] = [
    (GITHUB, raw("github-ping.json"), ["issues", "pull_request", "workflow_run"]),
    (GITLAB, raw("gitlab-push.json"), ["Merge Request Hook", "Issue Hook", "Pipeline Hook"]),
    (GITEA, raw("gitea-push.json"), ["create", "delete", "issues", "pull_request"]),
    (BITBUCKET, dumps(bitbucket_push()), ["pullrequest:created", "repo:commit_status_updated"]),
]
OTHER_EVENTS = [(hook, body, event) for hook, body, events in NOT_PUSHES for event in events]
"""Events signed like a push that are not one (Azure DevOps names its event in the body)."""


@pytest.mark.parametrize(
    ("hook", "body", "event"), OTHER_EVENTS, ids=[f"{h.provider}-{e}" for h, _, e in OTHER_EVENTS]
)
def test_other_events_are_ignored(hook: Hook, body: bytes, event: str) -> None:
    expected = Ignored(f"event '{event}' is not a push", hook.provider)
    assert hook.deliver(body, event=event) == expected


UNSIGNED_HEADERS: list[tuple[Hook, bytes, tuple[str, ...], str]] = [
    (
        GITHUB,
        dumps(github_push()),
        ("X-Hub-Signature-256", "X-Hub-Signature"),
        "X-Hub-Signature-256",
    ),
    (GITLAB, raw("gitlab-push.json"), ("X-Gitlab-Token",), "X-Gitlab-Token"),
    (BITBUCKET, dumps(bitbucket_push()), ("X-Hub-Signature",), "X-Hub-Signature"),
    (
        GITEA,
        raw("gitea-push.json"),
        ("X-Gitea-Signature", "X-Gogs-Signature", "X-Hub-Signature-256", "X-Hub-Signature"),
        "X-Gitea-Signature",
    ),
]
"""A delivery with its signature (or token) headers taken away, and the header a refusal names."""


@pytest.mark.parametrize(
    ("hook", "body", "removed", "named"),
    UNSIGNED_HEADERS,
    ids=[h.provider for h, *_ in UNSIGNED_HEADERS],
)
def test_a_missing_signature_names_its_header(
    hook: Hook, body: bytes, removed: tuple[str, ...], named: str
) -> None:
    body, headers = hook.signed(body)
    for header in removed:
        del headers[header]
    with pytest.raises(SignatureError, match=f"missing {named} header"):
        hook.parse(body, headers)


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"not json", "not JSON"),
    (b"\xff\xfe\x00", "not JSON"),
    (b"[1, 2]", "expected a JSON object, got list"),
    (b'"push"', "expected a JSON object, got str"),
    (b"null", "expected a JSON object, got NoneType"),
    (b'{"a": NaN}', "not JSON"),
    (b"[" * 5000 + b"]" * 5000, "not JSON"),
    (b'{"a": "\\ud800"}', "not JSON"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bodies_that_are_not_json_objects(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message) as caught:
        parse_webhook("github", sign_github(body), body, SECRET)
    assert caught.value.to_wire()["errors"][0]["loc"] == "body"


def test_a_body_over_the_size_cap() -> None:
    body = b" " * (MAX_BODY_BYTES + 1)
    with pytest.raises(PayloadError, match="25 MiB"):
        parse_webhook("github", sign_github(body), body, SECRET)


def test_a_form_body_without_a_payload_field() -> None:
    body = b"other=1"
    headers = sign_github(body)
    headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    with pytest.raises(PayloadError, match="payload"):
        parse_webhook("github", headers, body, SECRET)


def test_errors_are_all_webhook_errors() -> None:
    for error in (SignatureError, PayloadError, WebhookConfigError, UnknownProvider):
        assert issubclass(error, WebhookError)
    assert issubclass(PayloadError, ValueError)  # an InvalidInput, like other 400s


def test_bounded_problem_inputs() -> None:
    data = github_push(after="x" * 10_000)
    data["repository"] = {"clone_url": ["a"] * 1000}
    body = dumps(data)
    with pytest.raises(PayloadError) as caught:
        parse_webhook("github", sign_github(body), body, SECRET)
    wire = caught.value.to_wire()
    assert len(str(wire)) < 2000
    assert all(len(p["msg"]) <= 300 for p in wire["errors"])


LEAKY: list[tuple[str, Callable[[bytes], dict[str, str]]]] = [
    ("github", lambda b: {"X-GitHub-Event": "push", "X-Hub-Signature-256": "sha256=00"}),
    ("gitlab", lambda b: {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET[:-1]}),
    ("azuredevops", lambda b: {"Authorization": "Basic eDp5"}),
    ("bitbucket", lambda b: {"X-Event-Key": "repo:push", "X-Hub-Signature": "sha256=00"}),
    ("gitea", lambda b: {"X-Gitea-Event": "push", "X-Gitea-Signature": "00"}),
]


@pytest.mark.parametrize(("provider", "headers"), LEAKY, ids=[p for p, _ in LEAKY])
def test_secrets_never_appear_in_errors(
    provider: str, headers: Callable[[bytes], dict[str, str]]
) -> None:
    body = b"{}"
    with pytest.raises(SignatureError) as caught:
        parse_webhook(provider, headers(body), body, [SECRET, OTHER_SECRET])
    text = f"{caught.value} {caught.value!r} {caught.value.args}"
    assert SECRET not in text
    assert OTHER_SECRET not in text
    assert SECRET[:-1] not in text


def test_the_providers_are_the_ones_settings_read_secrets_for() -> None:
    assert set(PROVIDERS) == set(settings.PROVIDERS)


def test_secrets_from_settings_are_accepted_as_they_are() -> None:
    body = dumps(github_push())
    secret = SecretStr(SECRET)
    assert isinstance(parse_webhook("github", sign_github(body), body, secret), Push)
    assert isinstance(parse_webhook("github", sign_github(body), body, [secret]), Push)
    assert SECRET not in repr(secret)
