"""Drift: how a fluxConfiguration on a cluster differs from what arcwave last wrote there.

Only the fields arcwave writes are compared (source, pin, scope, suspend, kustomizations), so
status fields and defaults Azure fills in never count as drift.
"""

from typing import Any

from shared.revision import short_revision

_KUSTOMIZATION_FIELDS = ("path", "dependsOn", "prune", "force")


def differences(desired: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """What differs, one short phrase each; empty when the configuration is as arcwave left it."""
    want = desired.get("properties", {})
    have = actual.get("properties", {}) or {}
    found: list[str] = []
    section = "ociRepository" if "ociRepository" in want else "gitRepository"
    want_git, have_git = want.get(section, {}), have.get(section) or {}
    if have.get("suspend"):
        found.append("suspended")
    if (have_git.get("url") or "").rstrip("/") != (want_git.get("url") or "").rstrip("/"):
        found.append(f"source url is '{have_git.get('url')}'")
    want_ref, have_ref = want_git.get("repositoryRef", {}), have_git.get("repositoryRef") or {}
    for pin in ("commit", "digest", "tag"):
        if pin not in want_ref:
            continue
        if (have_ref.get(pin) or "").lower() != (want_ref.get(pin) or "").lower():
            pinned = have_ref.get(pin)
            found.append(
                f"pinned to {short_revision(pinned)}" if pinned else f"not pinned to a {pin}"
            )
    if have_ref.get("branch") != want_ref.get("branch"):
        found.append(f"branch is '{have_ref.get('branch')}'")
    for field in ("scope", "namespace"):
        if have.get(field) is not None and have.get(field) != want.get(field):
            found.append(f"{field} is '{have.get(field)}'")
    want_k, have_k = want.get("kustomizations", {}), have.get("kustomizations") or {}
    for name in sorted(set(want_k) - set(have_k)):
        found.append(f"kustomization '{name}' removed")
    for name in sorted(set(have_k) - set(want_k)):
        found.append(f"kustomization '{name}' added")
    for name in sorted(set(want_k) & set(have_k)):
        for field in _KUSTOMIZATION_FIELDS:
            mine, theirs = want_k[name].get(field), (have_k[name] or {}).get(field)
            if field == "dependsOn":
                mine, theirs = sorted(mine or []), sorted(theirs or [])
            if theirs is not None and mine != theirs:
                found.append(f"kustomization '{name}' {field} is {theirs!r}")
    return found


def modified_by(configuration: dict[str, Any]) -> str:
    """` (last modified by X at T)` when Azure says who wrote the configuration last."""
    system = configuration.get("systemData") or {}
    who = system.get("lastModifiedBy")
    if not who:
        return ""
    kind = system.get("lastModifiedByType")
    when = system.get("lastModifiedAt")
    return (
        f" (last modified by {who}"
        + (f", a {kind}" if kind else "")
        + (f", at {when})" if when else ")")
    )
