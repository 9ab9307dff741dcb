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

from typing import Annotated

from shared.revision import CommitSha
from shared.webhooks.body import CamelPayloadModel, OptionalStrings, Strings, first_name, validate
from shared.webhooks.git_delivery import DeliveryIds, Events, GitProvider, JsonObject, PushBody
from shared.webhooks.refs import RefUpdate
from shared.webhooks.signatures import basic_auth
from shared.webhooks.times import dig, instant

PROVIDER = "azuredevops"
WHAT = "Azure DevOps git.push payload"


class _Envelope(CamelPayloadModel):
    id: str | None = None
    event_type: str


class _RefUpdate(CamelPayloadModel):
    name: str
    old_object_id: CommitSha
    new_object_id: CommitSha


_Urls = Annotated[
    Strings,
    OptionalStrings("_Repository", "remote_url", "ssh_url", "web_url", base=CamelPayloadModel),
]
"""The repository's URLs: https clone, ssh, then the web page."""

_Identity = Annotated[
    Strings, OptionalStrings("_Identity", "display_name", "unique_name", base=CamelPayloadModel)
]


class _Resource(CamelPayloadModel):
    ref_updates: list[_RefUpdate]
    repository: _Urls
    pushed_by: _Identity | None = None


class _PushEvent(_Envelope):
    resource: _Resource


def _event_type(_: str, data: JsonObject) -> str:
    return validate(WHAT, _Envelope, data).event_type


def _read_push(data: JsonObject) -> PushBody:
    event = validate(WHAT, _PushEvent, data)
    resource = event.resource
    updates = [RefUpdate(u.name, u.old_object_id, u.new_object_id) for u in resource.ref_updates]
    pusher = first_name(resource.pushed_by)
    pushed_at = instant(dig(data, "resource", "date"))
    return PushBody(resource.repository, updates, pusher, event_id=event.id, pushed_at=pushed_at)


AZURE_DEVOPS = GitProvider(
    name=PROVIDER,
    what=WHAT,
    authenticate=basic_auth,
    events=Events("git.push", in_body=_event_type),
    ids=DeliveryIds(in_body="id"),
    read_push=_read_push,
    repository_loc="resource.repository.remoteUrl",
    ref_list="ref updates",
)
