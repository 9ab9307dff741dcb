"""Track spec validation, case by case: each invalid value names its field and the reason."""

import copy
import json
from datetime import timedelta
from typing import Any

import pytest

from shared.problems import InvalidInput
from shared.quantities import CountOrPercent
from shared.trackspec import (
    OfflinePolicy,
    OnFailure,
    Scope,
    SupersedePolicy,
    TrackSpec,
    load_track_spec,
    validate_track_spec,
)

SUB = "00000000-0000-0000-0000-000000000001"

DESIGN_EXAMPLE = f"""
name: baseline
source: {{url: https://github.com/contoso/fleet-config, branch: main, paths: ["clusters/**"]}}
configuration:
  name: baseline            # fluxConfigurations/<name>
  scope: cluster            # or namespace
  namespace: flux-system
  kustomizations:
    infra: {{path: ./infrastructure, prune: true}}
    apps:  {{path: ./apps, dependsOn: [infra]}}
fleet: {{subscriptions: [{SUB}], resourceGroups: [], tags: {{env: prod}}}}
waves:
  - {{name: canary, selector: {{ring: canary}}, maxFailures: 0, soak: 10m}}
  - {{name: early, selector: {{ring: early}}, maxConcurrency: 10, maxFailures: 10%, approval: true}}
  - {{name: broad, maxConcurrency: 50, perSiteConcurrency: 2, maxFailures: 5%}}
progressDeadline: 30m
onFailure: rollback        # rollback | halt
offline: skip              # skip | fail | wait
supersede: queue           # queue | restart
"""


def minimal() -> dict[str, Any]:
    return {
        "name": "apps",
        "source": {"url": "https://github.com/contoso/apps", "branch": "main"},
        "configuration": {"name": "apps", "kustomizations": {"apps": {"path": "./apps"}}},
        "fleet": {"subscriptions": [SUB]},
        "waves": [{"name": "all"}],
    }


def problems(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    with pytest.raises(InvalidInput) as error:
        validate_track_spec(data)
    return {p.loc: (p.type, p.msg) for p in error.value.problems}


def with_change(path: str, value: Any) -> dict[str, Any]:
    """A minimal spec with one value set at a dotted path (`waves.0.soak`)."""
    data = copy.deepcopy(minimal())
    target: Any = data
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


def test_design_example_is_valid_and_keeps_every_value() -> None:
    spec = load_track_spec(DESIGN_EXAMPLE)
    assert spec.name == "baseline"
    assert spec.source.paths == ["clusters/**"]
    assert spec.configuration.scope is Scope.CLUSTER
    assert spec.configuration.namespace == "flux-system"
    assert spec.configuration.kustomizations["apps"].depends_on == ["infra"]
    assert spec.configuration.kustomizations["infra"].prune is True
    assert spec.fleet.tags == {"env": "prod"}
    canary, early, broad = spec.waves
    assert canary.selector == {"ring": "canary"}
    assert canary.soak == timedelta(minutes=10)
    assert early.max_concurrency == CountOrPercent(count=10)
    assert early.max_failures == CountOrPercent(percent=10)
    assert early.approval is True
    assert broad.takes_the_rest
    assert broad.per_site_concurrency == 2
    assert spec.progress_deadline == timedelta(minutes=30)
    assert spec.on_failure is OnFailure.ROLLBACK
    assert spec.offline is OfflinePolicy.SKIP
    assert spec.supersede is SupersedePolicy.QUEUE


def test_defaults() -> None:
    spec = validate_track_spec(minimal())
    wave = spec.waves[0]
    assert spec.configuration.scope is Scope.CLUSTER
    assert spec.configuration.namespace == "default"
    assert spec.fleet.site_tag == "site"
    assert spec.progress_deadline == timedelta(minutes=30)
    assert spec.on_failure is OnFailure.ROLLBACK
    assert spec.offline is OfflinePolicy.SKIP
    assert spec.supersede is SupersedePolicy.QUEUE
    assert wave.max_failures == CountOrPercent(count=0)
    assert wave.max_concurrency is None
    assert wave.soak == timedelta(0)
    assert wave.approval is False


def test_json_is_accepted_and_the_wire_form_round_trips() -> None:
    spec = load_track_spec(DESIGN_EXAMPLE)
    wire = spec.to_wire()
    assert wire["waves"][1]["maxFailures"] == "10%"
    assert wire["waves"][0]["soak"] == "10m"
    assert wire["progressDeadline"] == "30m"
    assert TrackSpec.model_validate(wire) == spec
    import json

    assert load_track_spec(json.dumps(wire)) == spec


def test_snake_case_names_are_accepted_too() -> None:
    data = minimal()
    data["progress_deadline"] = "5m"
    assert validate_track_spec(data).progress_deadline == timedelta(minutes=5)


@pytest.mark.parametrize(
    ("path", "value", "loc", "kind", "fragment"),
    [
        ("name", "Baseline", "name", "name", "not a valid track name"),
        ("name", "a" * 64, "name", "name", "at most 63"),
        ("source.url", "github.com/x", "source.url", "url", "not a Git or OCI URL"),
        ("source.branch", "refs/heads/main", "source.branch", "branch", "not 'refs/heads/main'"),
        ("source.branch", "", "source.branch", "string_too_short", ""),
        ("source.paths", ["ok/**", " "], "source.paths", "path", "cannot be empty"),
        ("configuration.name", "Base_line", "configuration.name", "name", "configuration name"),
        ("configuration.scope", "global", "configuration.scope", "enum", "'cluster' or"),
        ("configuration.namespace", "Flux", "configuration.namespace", "name", "namespace"),
        ("configuration.kustomizations", {}, "configuration.kustomizations", "too_short", ""),
        ("fleet.subscriptions", [], "fleet.subscriptions", "too_short", ""),
        ("fleet.subscriptions", ["prod"], "fleet.subscriptions", "subscription", "GUID"),
        ("fleet.subscriptions", [SUB, SUB.upper()], "fleet.subscriptions", "duplicate", "twice"),
        ("fleet.resourceGroups", ["rg/bad"], "fleet.resourceGroups", "resource_group", ""),
        ("fleet.tags", {"env": 3}, "fleet.tags", "tag", "must be text"),
        ("fleet.tags", {"env": []}, "fleet.tags", "tag", "lists no values"),
        ("waves", [], "waves", "too_short", ""),
        ("waves.0.name", "Canary!", "waves[0].name", "name", "wave name"),
        ("waves.0.soak", "10", "waves[0].soak", "duration", "has no unit"),
        ("waves.0.soak", "P1M", "waves[0].soak", "duration", "years or months"),
        ("waves.0.percent", 0, "waves[0].percent", "greater_than", ""),
        ("waves.0.percent", 101, "waves[0].percent", "less_than_equal", ""),
        ("waves.0.maxFailures", "1O%", "waves[0].maxFailures", "count_or_percent", "'1O%'"),
        ("waves.0.maxFailures", "150%", "waves[0].maxFailures", "count_or_percent", "100%"),
        ("waves.0.maxConcurrency", 0, "waves[0].maxConcurrency", "count_or_percent", "at least 1"),
        ("waves.0.maxConcurrency", "0%", "waves[0].maxConcurrency", "count_or_percent", "above 0%"),
        ("waves.0.maxConcurrency", "120%", "waves[0].maxConcurrency", "count_or_percent", "100%"),
        ("waves.0.perSiteConcurrency", 0, "waves[0].perSiteConcurrency", "greater_than_equal", ""),
        ("waves.0.selector", {}, "waves[0].selector", "selector", "empty selector"),
        ("waves.0.selector", {"ring": []}, "waves[0].selector", "tag", "lists no values"),
        ("waves.0.approval", "maybe", "waves[0].approval", "bool_parsing", ""),
        ("waves.0.approvalTimeout", "0s", "waves[0].approvalTimeout", "duration", "longer than"),
        ("progressDeadline", "0s", "progressDeadline", "duration", "longer than zero"),
        ("progressDeadline", "soon", "progressDeadline", "duration", "not a duration"),
        ("onFailure", "rolback", "onFailure", "enum", "'rollback' or 'halt'"),
        ("offline", "ignore", "offline", "enum", "'skip', 'fail' or 'wait'"),
        ("supersede", "replace", "supersede", "enum", "'queue' or 'restart'"),
    ],
)
def test_invalid_value_names_field_and_reason(
    path: str, value: Any, loc: str, kind: str, fragment: str
) -> None:
    found = problems(with_change(path, value))
    assert loc in found, found
    assert found[loc][0] == kind
    assert fragment in found[loc][1]


@pytest.mark.parametrize(
    ("path", "field", "loc", "suggestion"),
    [
        ("", "maxFailure", "maxFailure", None),
        ("waves.0", "maxFailure", "waves[0].maxFailure", "maxFailures"),
        ("configuration", "kustomisations", "configuration.kustomisations", "kustomizations"),
        ("source", "ref", "source.ref", None),
        ("fleet", "subscription", "fleet.subscription", "subscriptions"),
    ],
)
def test_unknown_fields_are_refused_with_a_suggestion(
    path: str, field: str, loc: str, suggestion: str | None
) -> None:
    data = minimal()
    target: Any = data
    for part in filter(None, path.split(".")):
        target = target[int(part)] if part.isdigit() else target[part]
    target[field] = 1
    found = problems(data)
    kind, msg = found[loc]
    assert kind == "unknown_field"
    assert f"unknown field '{field}'" in msg
    assert "allowed:" in msg
    if suggestion:
        assert f"did you mean '{suggestion}'" in msg


def test_unknown_kustomization_field_names_the_kustomization() -> None:
    data = minimal()
    data["configuration"]["kustomizations"]["apps"]["prun"] = True
    found = problems(data)
    assert "did you mean 'prune'" in found["configuration.kustomizations.apps.prun"][1]


def test_missing_required_fields_are_each_named() -> None:
    found = problems({"name": "x"})
    for loc in ("source", "configuration", "fleet", "waves"):
        assert found[loc] == ("missing", "required field is missing")


def test_depends_on_must_name_a_kustomization_of_the_configuration() -> None:
    data = minimal()
    data["configuration"]["kustomizations"] = {
        "infra": {"path": "./infra"},
        "apps": {"path": "./apps", "dependsOn": ["infra", "infrastructure"]},
    }
    found = problems(data)
    kind, msg = found["configuration.kustomizations.apps.dependsOn[1]"]
    assert kind == "depends_on"
    assert "'infrastructure' is not a kustomization" in msg
    assert "have: apps, infra" in msg


def test_depends_on_itself_is_refused() -> None:
    data = minimal()
    data["configuration"]["kustomizations"]["apps"]["dependsOn"] = ["apps"]
    found = problems(data)
    assert "cannot depend on itself" in found["configuration.kustomizations.apps.dependsOn[0]"][1]


def test_depends_on_cycles_are_refused_with_the_cycle() -> None:
    data = minimal()
    data["configuration"]["kustomizations"] = {
        "a": {"dependsOn": ["b"]},
        "b": {"dependsOn": ["c"]},
        "c": {"dependsOn": ["a"]},
    }
    found = problems(data)
    kind, msg = found["configuration.kustomizations.a.dependsOn"]
    assert kind == "depends_on"
    assert "a → b → c → a" in msg


def test_kustomization_names_must_fit_kubernetes_names() -> None:
    data = minimal()
    data["configuration"]["kustomizations"] = {"x" * 60: {}}
    found = problems(data)
    assert "longer than 63" in found[f"configuration.kustomizations.{'x' * 60}"][1]


def test_postbuild_variable_names_follow_flux_rules() -> None:
    data = minimal()
    data["configuration"]["kustomizations"]["apps"]["substitute"] = {"cluster-name": "x"}
    found = problems(data)
    assert "not a Flux variable name" in found["configuration.kustomizations.apps.substitute"][1]


def test_duplicate_wave_names_point_at_the_second() -> None:
    data = minimal()
    data["waves"] = [{"name": "canary", "selector": {"ring": "canary"}}, {"name": "canary"}]
    found = problems(data)
    kind, msg = found["waves[1].name"]
    assert kind == "duplicate"
    assert "already used by waves[0]" in msg


def test_selector_and_percent_together_are_refused() -> None:
    data = minimal()
    data["waves"] = [{"name": "canary", "selector": {"ring": "canary"}, "percent": 10}]
    assert "either selector or percent" in problems(data)["waves[0].percent"][1]


def test_waves_after_a_catch_all_wave_are_unreachable() -> None:
    data = minimal()
    data["waves"] = [{"name": "all"}, {"name": "late", "selector": {"ring": "x"}}]
    kind, msg = problems(data)["waves[1]"]
    assert kind == "unreachable"
    assert "'all' (waves[0])" in msg


def test_approval_timeout_needs_approval() -> None:
    data = minimal()
    data["waves"][0]["approvalTimeout"] = "1h"
    assert "needs approval: true" in problems(data)["waves[0].approvalTimeout"][1]


def test_every_problem_is_reported_at_once() -> None:
    data = minimal()
    data["name"] = "Bad Name"
    data["progressDeadline"] = "forever"
    data["waves"][0]["soak"] = "5"
    data["waves"][0]["maxFailures"] = "x%"
    assert set(problems(data)) == {
        "name",
        "progressDeadline",
        "waves[0].soak",
        "waves[0].maxFailures",
    }


def test_spec_must_be_a_mapping() -> None:
    with pytest.raises(InvalidInput, match="must be a mapping"):
        load_track_spec("- just\n- a list\n")


def test_duplicate_yaml_keys_are_refused_with_the_line() -> None:
    text = "name: a\nname: b\n"
    with pytest.raises(InvalidInput) as error:
        load_track_spec(text)
    problem = error.value.problems[0]
    assert problem.loc == "line 2, column 1"
    assert "duplicate key 'name'" in problem.msg


def test_malformed_yaml_is_refused_with_the_position() -> None:
    with pytest.raises(InvalidInput) as error:
        load_track_spec("name: [unclosed\n")
    assert error.value.problems[0].type == "syntax"
    assert error.value.problems[0].loc.startswith("line ")


def test_problems_have_the_api_shape() -> None:
    data = with_change("waves.0.maxFailures", "1O%")
    with pytest.raises(InvalidInput) as error:
        validate_track_spec(data)
    assert error.value.to_wire() == {
        "error": "invalid track spec",
        "errors": [
            {
                "loc": "waves[0].maxFailures",
                "type": "count_or_percent",
                "msg": "expected a count like 3 or a percentage like '10%', got '1O%'",
                "input": "1O%",
            }
        ],
    }


def test_wave_lookup_by_name() -> None:
    spec = load_track_spec(DESIGN_EXAMPLE)
    assert spec.wave("early").approval
    with pytest.raises(KeyError, match="has no wave 'late'"):
        spec.wave("late")


def oci(**changes: Any) -> dict[str, Any]:
    data = minimal()
    data["source"] = {"url": "oci://contoso.azurecr.io/fleet/apps"}
    data.update(changes)
    return data


def test_oci_sources_and_their_trigger() -> None:
    spec = validate_track_spec(
        oci(
            ociTrigger={
                "registry": "Contoso.azurecr.io",
                "repository": "fleet/apps",
                "tagPattern": "v*",
            }
        )
    )
    assert spec.source.is_oci
    assert spec.source.oci_repository == ("contoso.azurecr.io", "fleet/apps")
    assert spec.oci_trigger is not None and spec.oci_trigger.tag_pattern == "v*"


def test_an_oci_source_has_no_branch_and_a_git_source_needs_one() -> None:
    data = oci()
    data["source"]["branch"] = "main"
    assert "OCI source has no branch" in problems(data)["source.branch"][1]
    data = minimal()
    del data["source"]["branch"]
    assert "needs the branch" in problems(data)["source.branch"][1]


def test_oci_trigger_needs_an_oci_source_of_the_same_repository() -> None:
    trigger = {"registry": "contoso.azurecr.io", "repository": "fleet/apps"}
    assert "needs an OCI source" in problems({**minimal(), "ociTrigger": trigger})["ociTrigger"][1]
    other = {"registry": "contoso.azurecr.io", "repository": "fleet/other"}
    assert "but the source is" in problems(oci(ociTrigger=other))["ociTrigger"][1]


def test_an_oci_spec_round_trips_through_its_stored_form() -> None:
    spec = validate_track_spec(oci())
    assert TrackSpec.model_validate(spec.to_wire()) == spec


KEY_REF = {"secret": "fleet-ssh-key"}


def test_source_auth_forms_are_accepted_where_they_fit() -> None:
    ssh = with_change("source.url", "ssh://git@ssh.dev.azure.com/v3/c/f/r")
    ssh["source"]["auth"] = {"ssh": {"privateKey": KEY_REF, "knownHosts": "h ssh-rsa A"}}
    assert validate_track_spec(ssh).source.auth.ssh.private_key.secret == "fleet-ssh-key"
    https = with_change("source.auth", {"https": {"user": "git", "token": {"secret": "pat"}}})
    assert validate_track_spec(https).source.auth.https.user == "git"
    for auth in ({"localAuthRef": "git-creds"}, {"provider": "azure"}, {"caCertificate": "PEM"}):
        assert validate_track_spec(with_change("source.auth", auth)).source.auth is not None


@pytest.mark.parametrize(
    ("auth", "loc", "kind"),
    [
        ({"ssh": {"privateKey": KEY_REF, "knownHosts": "h"}}, "source.auth.ssh", "auth"),
        (
            {"https": {"user": "u", "token": {"secret": "p"}}, "localAuthRef": "x"},
            "source.auth",
            "one_way",
        ),
        (
            {"https": {"user": "u", "token": {"secret": "bad name!"}}},
            "source.auth.https.token.secret",
            "secret_name",
        ),
        ({"localAuthRef": "Not_A_Name"}, "source.auth.localAuthRef", "name"),
        ({"provider": "bitbucket"}, "source.auth.provider", "enum"),
        (
            {"clientCertificate": {"certificate": "C", "privateKey": KEY_REF}},
            "source.auth.clientCertificate",
            "auth",
        ),
    ],
)
def test_source_auth_that_does_not_fit_names_the_field(
    auth: dict[str, Any], loc: str, kind: str
) -> None:
    found = problems(with_change("source.auth", auth))
    assert found[loc][0] == kind, found


def test_a_secret_given_inline_is_refused_and_never_echoed() -> None:
    data = with_change("source.auth", {"https": {"user": "git", "token": "s3cr3t-token"}})
    with pytest.raises(InvalidInput) as error:
        validate_track_spec(data)
    wire = json.dumps(error.value.to_wire())
    assert "s3cr3t-token" not in wire
    assert "Key Vault" in wire
