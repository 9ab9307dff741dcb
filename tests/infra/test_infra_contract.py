"""infra/ matches what the code and the design expect: settings, containers, roles, outputs.

These read the Bicep as text; the syntax check and checkov cover the language itself.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
MAIN = INFRA / "main.bicep"


def bicep(name: str) -> str:
    return (INFRA / name).read_text()


def all_bicep() -> dict[Path, str]:
    return {path: path.read_text() for path in sorted(INFRA.rglob("*.bicep"))}


def declared_params(text: str) -> dict[str, bool]:
    """Parameter name -> whether it has a default value."""
    params = {}
    for match in re.finditer(r"^param (\w+) \w+( =)?", text, re.MULTILINE):
        params[match.group(1)] = bool(match.group(2))
    return params


def setting_values() -> dict[str, str]:
    """App settings written in main.bicep and the function module, name -> value expression."""
    text = bicep("main.bicep") + bicep("app/function.bicep")
    return dict(re.findall(r"^\s+([A-Za-z_][A-Za-z0-9_]*): (.+)$", text, re.MULTILINE))


SETTINGS_THE_CODE_READS = [
    "ARCWAVE_TASK_HUB",
    "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    "ARCWAVE_ARM_ENDPOINT",
    "ARCWAVE_CREDENTIAL",
    "AZURE_CLIENT_ID",
    "ARCWAVE_STORE",
    "ARCWAVE_COSMOS_ENDPOINT",
    "ARCWAVE_COSMOS_DATABASE",
    "ARCWAVE_EVENTGRID_ENDPOINT",
    "ARCWAVE_KEYVAULT_URL",
    "ARCWAVE_WEBHOOK_SECRET",
    "ARCWAVE_WEBHOOK_SECRET_GITHUB",
    "ARCWAVE_WEBHOOK_SECRET_GITLAB",
    "ARCWAVE_WEBHOOK_SECRET_AZUREDEVOPS",
    "ARCWAVE_WEBHOOK_SECRET_BITBUCKET",
    "ARCWAVE_WEBHOOK_SECRET_GITEA",
    "ARCWAVE_FLUX_HMAC_KEY",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
]


@pytest.mark.parametrize("name", SETTINGS_THE_CODE_READS)
def test_infra_sets_every_app_setting_the_code_reads(name: str) -> None:
    assert name in setting_values(), f"app setting {name} is not set in infra/"


def test_infra_fixed_settings_have_the_values_the_code_expects() -> None:
    values = setting_values()
    assert values["ARCWAVE_CREDENTIAL"] == "'default'"
    assert values["ARCWAVE_STORE"] == "'cosmos'"
    assert values["AzureWebJobsStorage__credential"] == "'managedidentity'"
    assert values["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"].startswith(
        "'Endpoint=${durable.outputs.endpoint};Authentication=ManagedIdentity;ClientID="
    )
    assert "param armEndpoint string = 'https://management.azure.com'" in bicep("main.bicep")


def test_infra_secrets_reach_the_app_only_as_key_vault_references() -> None:
    values = setting_values()
    main = bicep("main.bicep")
    names = dict(re.findall(r"^\s+(\w+): '(arcwave-webhook-secret-\w+)'$", main, re.MULTILINE))
    vault_block = main[main.index("secrets: {") : main.index("module eventGrid")]
    stored = set(re.findall(r"'(arcwave-[\w-]+)': \w+", vault_block))
    for setting in [s for s in SETTINGS_THE_CODE_READS if "SECRET" in s or "HMAC" in s]:
        value = values[setting]
        match = re.fullmatch(
            r"'@Microsoft\.KeyVault\(SecretUri=\$\{vaultUri\}secrets/"
            r"(?:([\w-]+)|\$\{webhookSecretNames\.(\w+)\})/\)'",
            value,
        )
        assert match, f"{setting} is not a Key Vault reference: {value}"
        secret = match.group(1) or names[match.group(2)]
        assert secret in stored, f"{setting} refers to {secret}, which infra/ never stores"


def test_infra_key_vault_reference_resolves_with_the_app_identity() -> None:
    function = bicep("app/function.bicep")
    assert "keyVaultReferenceIdentity: identityId" in function
    assert "'4633458b-17de-408a-b874-0445c86b69e6'" in bicep("app/rbac.bicep")


def resource_block(text: str, symbol: str) -> str:
    """The body of `resource <symbol> '...' = ... {` up to its closing brace at column 0."""
    match = re.search(
        rf"^resource {symbol} '[^']+' (?:existing )?= [^\n]*\{{\n(.*?)^\}}", text, re.M | re.S
    )
    assert match, f"no resource {symbol}"
    return match.group(1)


def module_params(text: str, symbol: str) -> dict[str, str]:
    """The params of `module <symbol> '...' = {`, name -> value expression."""
    match = re.search(rf"^module {symbol} '[^']+' = [^\n]*\{{\n(.*?)^\}}", text, re.M | re.S)
    assert match, f"no module {symbol}"
    params = match.group(1).split("  params: {\n", 1)[1]
    return dict(re.findall(r"^    (\w+): (.+)$", params, re.M))


def test_infra_app_identity_is_key_vault_secrets_user_on_the_arcwave_vault() -> None:
    """The app reads the Flux source credentials a track names, with its own identity."""
    rbac = bicep("app/rbac.bicep")
    assert "keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'" in rbac
    assignment = resource_block(rbac, "keyVaultSecretsUser")
    assert "name: guid(vault.id, principalId, roles.keyVaultSecretsUser)" in assignment
    assert "scope: vault" in assignment
    assert "roleDefinitionIds" not in assignment
    assert re.search(r"roleDefinitionId: .*roles\.keyVaultSecretsUser\)", assignment)
    assert "principalId: principalId" in assignment
    assert "principalType: 'ServicePrincipal'" in assignment
    vault = resource_block(rbac, "vault")
    assert "name: keyVaultName" in vault
    assert re.search(r"^resource vault 'Microsoft\.KeyVault/vaults@[\w-]+' existing", rbac, re.M)
    params = module_params(bicep("main.bicep"), "rbac")
    assert params["principalId"] == "identity.properties.principalId"
    assert params["keyVaultName"] == "keyVault.outputs.name"


def test_infra_vault_authorizes_with_rbac_only_and_no_access_policies() -> None:
    vault = resource_block(bicep("app/keyvault.bicep"), "vault")
    assert "enableRbacAuthorization: true" in vault
    for path, text in all_bicep().items():
        assert "accessPolicies" not in text, f"{path.name} declares Key Vault access policies"


def test_infra_sets_arcwave_keyvault_url_to_the_vault_uri() -> None:
    main = bicep("main.bicep")
    values = setting_values()
    assert values["ARCWAVE_KEYVAULT_URL"] == "vaultUri", "a plain URL, not a Key Vault reference"
    assert "var vaultUri = keyVault.outputs.uri\n" in main
    keyvault = bicep("app/keyvault.bicep")
    assert re.search(r"^output uri string = vault\.properties\.vaultUri$", keyvault, re.M)
    outputs = dict(re.findall(r"^output (\w+) \w+ = (.+)$", main, re.MULTILINE))
    assert outputs.get("ARCWAVE_KEYVAULT_URL") == "vaultUri"
    assert re.search(r"^module keyVault 'app/keyvault\.bicep' = \{", main, re.M)


def test_infra_task_hub_setting_is_the_one_host_json_reads() -> None:
    host = json.loads((REPO / "host.json").read_text())
    assert host["extensions"]["durableTask"]["hubName"] == "%ARCWAVE_TASK_HUB%"


def test_infra_cosmos_containers_match_the_design() -> None:
    cosmos = bicep("app/cosmos.bicep")
    containers = {}
    for block in cosmos.split("\n  {\n")[1:]:
        name = re.search(r"id: '(\w+)'", block)
        key = re.search(r"paths: \[\s*'([^']+)'", block)
        if name and key:
            containers[name.group(1)] = (key.group(1), "defaultTtl:" in block)
    assert containers == {
        "tracks": ("/id", False),
        "rollouts": ("/track", False),
        "clusters": ("/track", False),
        "timeline": ("/rolloutId", True),
        "deliveries": ("/source", True),
    }
    assert "name: 'EnableServerless'" in cosmos
    assert "disableLocalAuth: true" in cosmos


def test_infra_turns_keys_off_everywhere() -> None:
    assert "allowSharedKeyAccess: false" in bicep("app/storage.bicep")
    assert "disableLocalAuth: true" in bicep("app/eventgrid.bicep")
    assert "DisableLocalAuth: true" in bicep("app/monitoring.bicep")
    assert "enableRbacAuthorization: true" in bicep("app/keyvault.bicep")
    for publishing in ("'ftp'", "'scm'"):
        assert f"name: {publishing}\n  properties: {{\n    allow: false" in bicep(
            "app/function.bicep"
        )


def test_infra_runs_python_311_on_flex_consumption_as_a_user_assigned_identity() -> None:
    function = bicep("app/function.bicep")
    assert "name: 'FC1'" in function
    assert "tier: 'FlexConsumption'" in function
    assert re.search(r"runtime: \{\s*name: 'python'\s*version: '3.11'", function)
    assert "type: 'UserAssigned'" in function
    assert "type: 'UserAssignedIdentity'" in function


BUILT_IN_ROLES = {
    "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "durableTaskDataContributor": "0ad04412-c4d5-4796-b79c-f76d14c8d402",
    "eventGridDataSender": "d5a91429-5739-47e2-a06b-3470a27159e7",
    "keyVaultSecretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
    "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    "websiteContributor": "de139f84-1756-47ae-9be6-808fbbe84772",
    "cosmosBuiltInDataContributor": "00000000-0000-0000-0000-000000000002",
}


@pytest.mark.parametrize(("role", "definition"), BUILT_IN_ROLES.items())
def test_infra_assigns_each_built_in_role(role: str, definition: str) -> None:
    rbac = bicep("app/rbac.bicep")
    assert f"{role}: '{definition}'" in rbac
    assert re.search(rf"roleDefinitionId: .*roles\.{role}\b", rbac), f"{role} is never assigned"


def test_infra_fleet_role_holds_only_what_arcwave_does_to_clusters() -> None:
    role = bicep("app/fleet-role.bicep")
    actions = re.findall(r"^\s+'(Microsoft\.[\w./]+)'$", role, re.MULTILINE)
    assert sorted(actions) == sorted(
        [
            "Microsoft.Kubernetes/connectedClusters/read",
            "Microsoft.KubernetesConfiguration/fluxConfigurations/read",
            "Microsoft.KubernetesConfiguration/fluxConfigurations/write",
            "Microsoft.KubernetesConfiguration/fluxConfigurations/delete",
            "Microsoft.KubernetesConfiguration/fluxConfigurations/operations/read",
            "Microsoft.ResourceGraph/resources/read",
        ]
    )
    assert "dataActions: []" in role
    assert "type: 'customRole'" in role


def test_infra_fleet_role_is_assigned_at_subscription_and_resource_group_scope() -> None:
    rbac = bicep("app/rbac.bicep")
    subscription_module = rbac[rbac.index("'fleet-access-subscription.bicep'") :]
    assert "scope: subscription(sub)" in subscription_module.split("\n]")[0]
    assert "scope: resourceGroup(split(id, '/')[2], split(id, '/')[4])" in rbac
    assert "targetScope = 'subscription'" in bicep("app/fleet-access-subscription.bicep")
    assert "targetScope" not in bicep("app/fleet-access-resource-group.bicep")


def test_infra_keeps_every_role_assignment_in_the_rbac_module_with_a_guid_name() -> None:
    allowed = {"rbac.bicep", "fleet-access-subscription.bicep", "fleet-access-resource-group.bicep"}
    for path, text in all_bicep().items():
        assignments = re.findall(
            r"'Microsoft\.(?:Authorization/roleAssignments|DocumentDB/databaseAccounts/"
            r"sqlRoleAssignments)@[\w-]+' = (?:if \([^)]*\) )?\{\s*(?:parent: \w+\s*)?name: (\S+)",
            text,
        )
        if assignments:
            assert path.name in allowed, f"{path.name} assigns roles outside the rbac module"
        assert all(name.startswith("guid(") for name in assignments), (path.name, assignments)
    for path, text in all_bicep().items():
        if "fleet-access-" in text or "fleet-role.bicep" in text:
            assert path.name == "rbac.bicep", f"{path.name} reaches the fleet role modules"


def test_infra_event_grid_delivers_arm_writes_and_acr_pushes_to_the_trigger_functions() -> None:
    arm = bicep("app/arm-events.bicep")
    acr = bicep("app/acr-events.bicep")
    assert "topicType: 'Microsoft.Resources.Subscriptions'" in arm
    assert "param functionName string = 'on_arm_event'" in arm
    assert "'Microsoft.Kubernetes/connectedClusters/write'" in arm
    assert "'Microsoft.KubernetesConfiguration/fluxConfigurations/write'" in arm
    assert "topicType: 'Microsoft.ContainerRegistry.Registries'" in acr
    assert "param functionName string = 'on_acr_event'" in acr
    assert "'Microsoft.Resources.ResourceWriteSuccess'" in arm
    for text in (arm, acr):
        assert "endpointType: 'WebHook'" in text
        assert "/runtime/webhooks/eventgrid?functionName=${functionName}&code=" in text
    main = bicep("main.bicep")
    assert main.count("systemKeys.eventgrid_extension") == 2


def test_infra_declares_no_resource_health_topic_or_subscription() -> None:
    """HealthResources covers virtual machines and scale sets only, never connected clusters, and
    a subscription holds one such topic: the watch_connectivity timer finds reconnected clusters."""
    banned = (
        "HealthResources",
        "AvailabilityStatusChanged",
        "subscribeToHealthResources",
        "Microsoft.ResourceNotifications",
        "health-events",
    )
    for path in sorted(INFRA.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for word in banned:
            assert word.lower() not in text.lower(), f"{path.relative_to(REPO)} mentions {word}"
    assert not (INFRA / "app" / "health-events.bicep").exists()
    topic_types = set()
    for text in all_bicep().values():
        topic_types.update(re.findall(r"topicType: '([^']+)'", text))
    assert topic_types == {
        "Microsoft.Resources.Subscriptions",
        "Microsoft.ContainerRegistry.Registries",
    }


def test_infra_event_grid_functions_exist_in_the_app() -> None:
    # get_functions() may only run once per process, so read the registration instead.
    source = (REPO / "triggers/events.py").read_text()
    for name in ("on_arm_event", "on_acr_event"):
        assert f'@bp.function_name("{name}")' in source


EXPECTED_URL_OUTPUTS = {
    "AZURE_FUNCTION_URL": "functionApp.outputs.url",
    "ARCWAVE_HOOK_URL_GITHUB": "'${functionApp.outputs.url}/api/hooks/github'",
    "ARCWAVE_HOOK_URL_GITLAB": "'${functionApp.outputs.url}/api/hooks/gitlab'",
    "ARCWAVE_HOOK_URL_AZUREDEVOPS": "'${functionApp.outputs.url}/api/hooks/azuredevops'",
    "ARCWAVE_HOOK_URL_BITBUCKET": "'${functionApp.outputs.url}/api/hooks/bitbucket'",
    "ARCWAVE_HOOK_URL_GITEA": "'${functionApp.outputs.url}/api/hooks/gitea'",
    "ARCWAVE_FLUX_EVENTS_URL": "'${functionApp.outputs.url}/api/flux/events'",
}


def test_infra_outputs_the_function_url_and_each_webhook_url() -> None:
    outputs = dict(re.findall(r"^output (\w+) \w+ = (.+)$", bicep("main.bicep"), re.MULTILINE))
    for name, value in EXPECTED_URL_OUTPUTS.items():
        assert outputs.get(name) == value, name
    for name in outputs:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]+", name), f"output {name} is not UPPER_SNAKE"


def test_infra_outputs_named_after_a_setting_carry_that_setting() -> None:
    outputs = dict(re.findall(r"^output (\w+) \w+ = (.+)$", bicep("main.bicep"), re.MULTILINE))
    values = setting_values()
    for name, value in outputs.items():
        if name in values:
            assert value == values[name], f"output {name} = {value}, setting = {values[name]}"


def test_infra_module_paths_exist_and_every_module_is_used() -> None:
    used = set()
    for path, text in all_bicep().items():
        for target in re.findall(r"^module \w+ '([^']+)'", text, re.MULTILINE):
            module = (path.parent / target).resolve()
            assert module.exists(), f"{path.name} uses missing module {target}"
            used.add(module)
    assert used == {p.resolve() for p in (INFRA / "app").glob("*.bicep")}


def test_infra_names_come_from_abbreviations_and_the_resource_token() -> None:
    abbreviations = json.loads((INFRA / "abbreviations.json").read_text())
    main = bicep("main.bicep")
    used = set(re.findall(r"abbrs\.(\w+)", main))
    assert used <= abbreviations.keys(), used - abbreviations.keys()
    assert "var resourceToken = toLower(uniqueString(" in main
    assert "'azd-env-name': environmentName" in main


def test_infra_example_parameters_fit_main_bicep() -> None:
    example = (INFRA / "main.bicepparam").read_text()
    assert example.startswith("using './main.bicep'\n")
    given = set(re.findall(r"^param (\w+) =", example, re.MULTILINE))
    params = declared_params(bicep("main.bicep"))
    assert given <= params.keys(), given - params.keys()
    required = {name for name, has_default in params.items() if not has_default}
    assert required <= given, f"main.bicepparam leaves out required {required - given}"


def test_infra_github_workflow_tests_packages_and_publishes_to_flex_consumption() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "deploy.yml").read_text())
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = " ".join(step.get("run", "") for step in steps)
    assert "make test" in runs
    assert "infra/pipelines/package_app.py" in runs
    deploy = next(s for s in steps if s.get("uses", "").startswith("Azure/functions-action@"))
    assert deploy["with"]["sku"] == "flexconsumption"
    assert workflow["jobs"]["publish"]["permissions"]["id-token"] == "write"


def test_infra_azure_pipeline_tests_packages_and_publishes_to_flex_consumption() -> None:
    pipeline = yaml.safe_load((INFRA / "pipelines" / "azure-pipelines.yml").read_text())
    text = json.dumps(pipeline)
    assert "make test" in text
    assert "infra/pipelines/package_app.py" in text
    tasks = [
        step
        for stage in pipeline["stages"]
        for job in stage["jobs"]
        for step in job.get("steps", [])
        or job.get("strategy", {}).get("runOnce", {}).get("deploy", {}).get("steps", [])
    ]
    publish = next(t for t in tasks if t.get("task") == "AzureFunctionApp@2")
    assert publish["inputs"]["isFlexConsumption"] is True
    assert publish["inputs"]["appType"] == "functionAppLinux"


class Expr(str):
    """A Bicep expression that is not a literal (a parameter, a function call, ...), as written."""


def bicep_value(text: str) -> object:
    """One Bicep scalar: a string literal (escapes undone), a bool, an int or an Expr."""
    if re.fullmatch(r"'(?:[^'\\]|\\.)*'", text):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return Expr(text)


def bicep_object(body: str) -> dict[str, object]:
    """The object literal `body` (the lines between its braces, one property or item per line, as
    infra/ writes them) as dicts, lists and scalars; comment lines are skipped."""
    root: dict[str, object] = {}
    stack: list[dict[str, object] | list[object]] = [root]
    for raw in body.splitlines():
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        top = stack[-1]
        if line in ("}", "]"):
            stack.pop()
            continue
        if isinstance(top, dict):
            match = re.fullmatch(r"'?([\w$.-]+)'?: (.+)", line)
            assert match, f"not a Bicep property line: {line!r}"
            key, value = match.groups()
            assert key not in top, f"{key} appears twice"
        else:
            key, value = "", line
        if value in ("{", "["):
            child: dict[str, object] | list[object] = {} if value == "{" else []
            stack.append(child)
        else:
            assert not value.endswith(("{", "[")), f"one value per line: {line!r}"
            child = bicep_value(value)  # type: ignore[assignment]
        if isinstance(top, dict):
            top[key] = child
        else:
            top.append(child)
    assert stack == [root], "unbalanced braces"
    return root


def bicep_resources(text: str) -> dict[str, tuple[str, str]]:
    """Top-level resources of a Bicep file: symbol -> (type@version, body as written)."""
    found = {}
    for match in re.finditer(
        r"^resource (\w+) '([^']+)' (?:existing )?= (?:if \([^\n]*\) )?\{\n(.*?)^\}",
        text,
        re.M | re.S,
    ):
        found[match.group(1)] = (match.group(2), match.group(3))
    return found


def auth_settings() -> dict[str, object]:
    """The body of the function app's `authsettingsV2` config resource, as an object."""
    settings = [
        bicep_object(body)
        for kind, body in bicep_resources(bicep("app/function.bicep")).values()
        if kind.startswith("Microsoft.Web/sites/config@")
        and re.search(r"^  name: 'authsettingsV2'$", body, re.M)
    ]
    assert len(settings) == 1, "app/function.bicep declares no (or two) authsettingsV2 resources"
    return settings[0]


def auth_registration() -> dict[str, tuple[str, dict[str, object]]]:
    """The resources of app/auth.bicep: symbol -> (type@version, body as an object)."""
    resources = bicep_resources(bicep("app/auth.bicep"))
    return {symbol: (kind, bicep_object(body)) for symbol, (kind, body) in resources.items()}


def test_bicep_object_reads_nested_objects_arrays_and_scalars() -> None:
    parsed = bicep_object(
        "  name: 'it\\'s'\n  count: 2\n  on: true\n  // a comment\n  ref: site.id\n"
        "  inner: {\n    list: [\n      'a'\n      {\n        b: false\n      }\n    ]\n  }\n"
    )
    assert parsed == {
        "name": "it's",
        "count": 2,
        "on": True,
        "ref": "site.id",
        "inner": {"list": ["a", {"b": False}]},
    }
    assert isinstance(parsed["ref"], Expr) and not isinstance(parsed["name"], Expr)
    with pytest.raises(AssertionError, match="unbalanced"):
        bicep_object("  a: {\n    b: 1\n")


# Who reaches the app without an Entra token, and must keep doing so: the signed webhooks, Flux's
# HMAC-signed events, the public routes, Event Grid (its system key on the extension's URL) and
# automation with a function key on every operator route.
UNAUTHENTICATED_CALLERS = [
    "/api/hooks/github",
    "/api/hooks/azuredevops",
    "/api/flux/events",
    "/api/healthz",
    "/api/openapi.json",
    "/runtime/webhooks/eventgrid",
    "/api/tracks/baseline",
    "/api/rollouts/r-1/approve",
]
BLOCKING_ACTIONS = ("RedirectToLoginPage", "Return401", "Return403")


def blocked_without_token(settings: dict[str, object], paths: list[str]) -> list[str]:
    """The `paths` App Service authentication would refuse to a caller without an Entra token
    (a login redirect or 401/403 instead of the app): authentication is required, or an action
    other than AllowAnonymous is set without requireAuthentication explicitly false, and the
    path is not one of `excludedPaths` (a path, or a prefix ending in /*)."""
    properties = settings.get("properties", {})
    assert isinstance(properties, dict)
    if (
        not isinstance(properties.get("platform"), dict)
        or properties["platform"].get("enabled") is not True
    ):
        return []
    validation = properties.get("globalValidation", {})
    assert isinstance(validation, dict)
    required = validation.get("requireAuthentication")
    action = validation.get("unauthenticatedClientAction", "RedirectToLoginPage")
    if required is not True and (required is False or action == "AllowAnonymous"):
        return []
    if required is not True and action not in BLOCKING_ACTIONS:
        return []
    excluded = [str(p) for p in validation.get("excludedPaths", [])]  # type: ignore[union-attr]

    def is_excluded(path: str) -> bool:
        return any(path == p or (p.endswith("/*") and path.startswith(p[:-1])) for p in excluded)

    return [path for path in paths if not is_excluded(path)]


def sample_settings(**validation: object) -> dict[str, object]:
    return {"properties": {"platform": {"enabled": True}, "globalValidation": validation}}


@pytest.mark.parametrize(
    ("validation", "blocked"),
    [
        ({"requireAuthentication": False, "unauthenticatedClientAction": "AllowAnonymous"}, []),
        ({"requireAuthentication": True, "unauthenticatedClientAction": "Return401"}, ["all"]),
        ({"requireAuthentication": True, "unauthenticatedClientAction": "Return403"}, ["all"]),
        (
            {"requireAuthentication": True, "unauthenticatedClientAction": "RedirectToLoginPage"},
            ["all"],
        ),
        ({"unauthenticatedClientAction": "Return401"}, ["all"]),
        (
            {"requireAuthentication": True, "unauthenticatedClientAction": "AllowAnonymous"},
            ["all"],
        ),
        (
            {
                "requireAuthentication": True,
                "unauthenticatedClientAction": "Return401",
                "excludedPaths": ["/api/hooks/*", "/api/flux/events"],
            },
            [
                "/api/healthz",
                "/api/openapi.json",
                "/runtime/webhooks/eventgrid",
                "/api/tracks/baseline",
                "/api/rollouts/r-1/approve",
            ],
        ),
    ],
)
def test_blocked_without_token_knows_what_refuses_a_caller_without_a_token(
    validation: dict[str, object], blocked: list[str]
) -> None:
    expected = UNAUTHENTICATED_CALLERS if blocked == ["all"] else blocked
    assert blocked_without_token(sample_settings(**validation), UNAUTHENTICATED_CALLERS) == expected


def test_infra_turns_on_app_service_authentication_for_the_function_app() -> None:
    settings = auth_settings()
    assert settings["parent"] == "site"
    properties = settings["properties"]
    assert isinstance(properties, dict)
    assert properties["platform"] == {"enabled": True}, "platform.enabled must be true"
    assert properties["httpSettings"] == {"requireHttps": True}, "HTTPS only, default forwardProxy"
    assert properties["login"] == {"tokenStore": {"enabled": False}}


def test_infra_app_service_authentication_still_lets_webhooks_events_and_keys_through() -> None:
    """requireAuthentication false and AllowAnonymous, on purpose: the app decides per route."""
    settings = auth_settings()
    assert blocked_without_token(settings, UNAUTHENTICATED_CALLERS) == []
    validation = settings["properties"]["globalValidation"]  # type: ignore[index]
    assert validation == {
        "requireAuthentication": False,
        "unauthenticatedClientAction": "AllowAnonymous",
    }


def test_infra_app_service_authentication_validates_tokens_of_the_arcwave_registration() -> None:
    providers = auth_settings()["properties"]["identityProviders"]  # type: ignore[index]
    assert list(providers) == ["azureActiveDirectory"], "Microsoft Entra ID is the one provider"
    entra = providers["azureActiveDirectory"]
    assert entra["enabled"] is True
    assert entra["registration"] == {
        "clientId": "authClientId",
        "openIdIssuer": "https://login.microsoftonline.com/${tenant().tenantId}/v2.0",
    }, "no client secret: the API only validates bearer tokens"
    assert sorted(entra["validation"]["allowedAudiences"]) == ["authClientId", "authIdentifierUri"]
    params = module_params(bicep("main.bicep"), "functionApp")
    assert params["authClientId"] == "authAppClientId"
    assert params["authIdentifierUri"] == "authAppIdentifierUri"


ARCWAVE_APP_ROLES = {"arcwave.Reader", "arcwave.Operator", "arcwave.Approver", "arcwave.Admin"}


def test_infra_app_registration_declares_the_app_roles_arcwave_checks() -> None:
    from shared.identity import Role

    assert {role.value for role in Role} == ARCWAVE_APP_ROLES
    text = bicep("app/auth.bicep")
    assert re.search(r"^extension microsoftGraphV1$", text, re.M)
    kind, app = auth_registration()["app"]
    assert kind == "Microsoft.Graph/applications@v1.0"
    roles = app["appRoles"]
    assert isinstance(roles, list)
    assert {role["value"] for role in roles} == ARCWAVE_APP_ROLES, "an app role is missing"
    ids = [role["id"] for role in roles]
    assert len(set(ids)) == len(ids) == len(ARCWAVE_APP_ROLES)
    for role in roles:
        assert role["allowedMemberTypes"] == ["User", "Application"], role["value"]
        assert role["isEnabled"] is True and len(role["description"]) > 10, role["value"]
        assert role["id"] == f"guid('arcwave', 'appRole', '{role['value']}')", role["value"]
    assert "origin" not in text, "origin is read-only: Graph refuses it (msgraph-bicep-types#130)"


def test_infra_app_registration_exposes_a_v2_api_for_tokens_of_its_identifier_uri() -> None:
    resources = auth_registration()
    _, app = resources["app"]
    assert app["uniqueName"] == "uniqueName"
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["identifierUris"] == ["identifierUri"]
    api = app["api"]
    assert api["requestedAccessTokenVersion"] == 2
    (scope,) = api["oauth2PermissionScopes"]
    assert (scope["value"], scope["type"], scope["isEnabled"]) == (
        "user_impersonation",
        "User",
        True,
    )
    assert "passwordCredentials" not in app and "keyCredentials" not in app, "no credentials"
    kind, principal = resources["servicePrincipal"]
    assert kind == "Microsoft.Graph/servicePrincipals@v1.0"
    assert principal == {"appId": "app.appId", "appRoleAssignmentRequired": True}
    config = json.loads((INFRA / "bicepconfig.json").read_text())
    assert config["extensions"]["microsoftGraphV1"].startswith(
        "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:"
    )


def test_infra_creates_the_registration_unless_an_existing_one_is_named() -> None:
    main = bicep("main.bicep")
    assert declared_params(main)["authClientId"] is True
    assert "param authClientId string = ''" in main
    assert "var createAuthApp = empty(authClientId)\n" in main
    assert re.search(
        r"^module authRegistration 'app/auth\.bicep' = if \(createAuthApp\) \{", main, re.M
    )
    params = module_params(main, "authRegistration")
    assert params["identifierUri"] == "'api://${tenant().tenantId}/${authAppUniqueName}'"
    assert (
        "var authAppClientId = createAuthApp ? authRegistration.outputs.clientId : authClientId\n"
        in main
    )
    example = (INFRA / "main.bicepparam").read_text()
    assert (
        "param authClientId = readEnvironmentVariable('ARCWAVE_AUTH_EXISTING_CLIENT_ID', '')"
        in example
    )
    # Not the output's own name: azd keeps outputs as environment variables, and a created
    # registration must not turn into an "existing" one on the next deployment.
    assert "readEnvironmentVariable('ARCWAVE_AUTH_CLIENT_ID'" not in example


def test_infra_outputs_the_client_id_and_the_scope_to_request() -> None:
    outputs = dict(re.findall(r"^output (\w+) \w+ = (.+)$", bicep("main.bicep"), re.MULTILINE))
    assert outputs["ARCWAVE_AUTH_CLIENT_ID"] == "authAppClientId"
    assert outputs["ARCWAVE_AUTH_IDENTIFIER_URI"] == "authAppIdentifierUri"
    assert outputs["ARCWAVE_AUTH_SCOPE"] == "'${authAppIdentifierUri}/.default'"


def test_infra_every_inline_checkov_skip_names_its_reason() -> None:
    for path, text in all_bicep().items():
        for skip in re.findall(r"checkov:skip=(.*)$", text, re.M):
            check, _, reason = skip.partition(":")
            assert re.fullmatch(r"CKV2?_AZURE_\d+", check), (path.name, skip)
            assert len(reason.strip()) > 30, f"{path.name}: skip without a reason: {skip}"
