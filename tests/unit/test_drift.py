import copy
from pathlib import Path

from shared.desired import desired_configuration
from shared.drift import differences
from shared.trackspec import load_track_spec

ROOT = Path(__file__).resolve().parents[2]
SHA = "2b7e0c1f4f3c9a8d6e5b4a3c2d1e0f9a8b7c6d5e"
OTHER = "0ba6f0d30760d567de0bac86c8c4eec13ce1a590"


def desired() -> dict:  # type: ignore[type-arg]
    return desired_configuration(
        load_track_spec((ROOT / "scenarios/demo/track.yaml").read_text()), SHA
    )


def as_azure_returns_it(body: dict) -> dict:  # type: ignore[type-arg]
    actual = copy.deepcopy(body)
    actual["id"] = "/subscriptions/x/.../fluxConfigurations/baseline"
    actual["properties"].update(
        complianceState="Compliant", provisioningState="Succeeded", statuses=[], errorMessage=None
    )
    for kustomization in actual["properties"]["kustomizations"].values():
        kustomization["name"] = "k"
    return actual


def test_what_arcwave_wrote_is_no_drift() -> None:
    assert differences(desired(), as_azure_returns_it(desired())) == []


def test_a_moved_pin_suspension_and_kustomization_edits_are_drift() -> None:
    actual = as_azure_returns_it(desired())
    props = actual["properties"]
    props["gitRepository"]["repositoryRef"]["commit"] = OTHER
    props["suspend"] = True
    props["kustomizations"]["apps"]["prune"] = False
    props["kustomizations"]["extra"] = {"path": "./x"}
    del props["kustomizations"]["infra"]
    assert differences(desired(), actual) == [
        "suspended",
        "pinned to 0ba6f0d",
        "kustomization 'infra' removed",
        "kustomization 'extra' added",
        "kustomization 'apps' prune is False",
    ]


def test_following_a_branch_instead_of_the_pin_is_drift() -> None:
    actual = as_azure_returns_it(desired())
    del actual["properties"]["gitRepository"]["repositoryRef"]["commit"]
    assert differences(desired(), actual) == ["not pinned to a commit"]
