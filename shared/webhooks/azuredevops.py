"""Azure DevOps `git.push` service hooks (https://learn.microsoft.com/azure/devops/service-hooks/).

- Authentication: Azure DevOps signs nothing. The Web Hooks subscription is given Basic
  authentication (any user name, the secret as password) and must use an https URL; the request
  is accepted when `Authorization: Basic base64(user:password)` carries a configured secret.
  This proves the sender knows the secret, not that the body is unchanged; TLS protects that.
- Events: the body's `eventType`; `git.push` is read, anything else is ignored. Azure DevOps has
  no ping: its "Test" button posts a sample `git.push` for a made-up Fabrikam repository.
- One push can update several refs (`resource.refUpdates`): each branch update becomes a `Push`
  (several give `Pushes`); tag updates and branch deletions are ignored.
- Delivery id: the event's top-level `id`, the same on every retry of the event; else derived
  from the body.
- Changed files: never listed (`changed_paths` is None), so path filters let every push through.
"""

from shared.revision import CommitSha
from shared.webhooks.common import (
    CamelPayloadModel,
    Headers,
    Secrets,
    branch_of,
    delivery_value,
    load_json_object,
    previous,
    require_urls,
    secret_list,
    unique,
    validate,
    verify_basic_auth,
)
from shared.webhooks.model import (
    Ignored,
    Push,
    Pushes,
    WebhookResult,
    derived_delivery_id,
    not_a_push,
)

PROVIDER = "azuredevops"
WHAT = "Azure DevOps git.push payload"


class _Envelope(CamelPayloadModel):
    id: str | None = None
    event_type: str


class _RefUpdate(CamelPayloadModel):
    name: str
    old_object_id: CommitSha
    new_object_id: CommitSha


class _Repository(CamelPayloadModel):
    remote_url: str | None = None
    ssh_url: str | None = None
    web_url: str | None = None


class _Identity(CamelPayloadModel):
    display_name: str | None = None
    unique_name: str | None = None


class _Resource(CamelPayloadModel):
    ref_updates: list[_RefUpdate]
    repository: _Repository
    pushed_by: _Identity | None = None


class _PushEvent(CamelPayloadModel):
    resource: _Resource


def parse(headers: Headers, body: bytes, secrets: Secrets) -> WebhookResult:
    """Verify and read one Azure DevOps service hook delivery."""
    keys = secret_list(PROVIDER, secrets)
    verify_basic_auth(keys, headers.value("Authorization"))
    data = load_json_object(WHAT, headers, body)
    envelope = validate(WHAT, _Envelope, data)
    if envelope.event_type != "git.push":
        return Ignored(not_a_push(envelope.event_type), PROVIDER)
    event = validate(WHAT, _PushEvent, data)
    resource = event.resource
    repo = resource.repository
    urls = require_urls(
        WHAT, unique([repo.remote_url, repo.ssh_url, repo.web_url]), "resource.repository.remoteUrl"
    )
    moves = [(u.name, u.old_object_id, u.new_object_id) for u in resource.ref_updates]
    event_id = delivery_value(WHAT, "id", envelope.id)
    delivery = event_id or derived_delivery_id(PROVIDER, urls, moves)
    who = resource.pushed_by
    pusher = (who.display_name or who.unique_name) if who else None
    pushes: list[Push] = []
    ignored: list[Ignored] = []
    for ref, before, after in moves:
        branch = branch_of(ref, after)
        if isinstance(branch, Ignored):
            ignored.append(branch)
            continue
        pushes.append(
            Push(
                provider=PROVIDER,
                delivery_id=delivery,
                repository_urls=urls,
                branch=branch,
                commit=after,
                changed_paths=None,
                pusher=pusher,
                previous_commit=previous(before),
                request_id=event_id,
            )
        )
    if len(pushes) == 1:
        return pushes[0]
    if pushes:
        return Pushes(PROVIDER, delivery, tuple(pushes))
    return Ignored(ignored[0].reason if ignored else "no ref updates", PROVIDER)
