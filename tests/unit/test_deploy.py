"""Static checks of ``compose.yaml`` and ``deploy/kubernetes/`` (no Docker engine or cluster runs in CI).

The files must start what the README says (phonebot after a healthy, durable Valkey; probes on
``/healthz`` and ``/readyz``), name only environment variables phonebot reads, and mount the config at
the one path the Dockerfile and README use. The Kubernetes manifests are validated strictly against the
API schemas ``kubernetes-validate`` bundles (offline).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from bot.config import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
KUBERNETES = REPO / "deploy" / "kubernetes"
CONFIG_PATH = "/config/phonebot.yml"
#: What phonebot reads from its environment: the settings model, plus the two read directly.
READ_BY_PHONEBOT = {name.upper() for name in Settings.model_fields} | {"PORT", "PHONEBOT_HISTORY"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(KUBERNETES.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            found[document["kind"]] = document
    return found


def test_compose_starts_phonebot_after_a_healthy_durable_valkey(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"phonebot", "valkey"}
    store = services["valkey"]
    command = " ".join(store["command"])
    assert "--appendonly yes" in command, "AOF keeps queued alerts across a restart"
    assert store["healthcheck"]["test"][:2] == ["CMD", "valkey-cli"]
    (volume,) = store["volumes"]
    name, target = volume.split(":")[:2]
    assert name in compose["volumes"] and target == "/data"
    app = services["phonebot"]
    assert app["depends_on"] == {"valkey": {"condition": "service_healthy"}}
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert app["build"] == "."


def test_compose_names_only_variables_phonebot_reads(compose: dict[str, Any]) -> None:
    environment = compose["services"]["phonebot"]["environment"]
    assert set(environment) <= READ_BY_PHONEBOT, set(environment) - READ_BY_PHONEBOT
    assert environment["REDIS_URL"].startswith("redis://valkey:"), "the store is the compose service"


def test_compose_mounts_the_config_where_phonebot_reads_it(compose: dict[str, Any]) -> None:
    app = compose["services"]["phonebot"]
    assert app["environment"]["PHONEBOT_CONFIG"] == CONFIG_PATH
    targets = [volume.split(":")[1] for volume in app["volumes"]]
    assert CONFIG_PATH in targets
    assert all(volume.endswith(":ro") for volume in app["volumes"])


def test_one_config_path_in_dockerfile_readme_and_deploy() -> None:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    deployment = (KUBERNETES / "deployment.yaml").read_text(encoding="utf-8")
    for text in (dockerfile, readme, deployment):
        assert CONFIG_PATH in text or "mountPath: /config" in text
        assert "/etc/phonebot.yml" not in text


def test_readme_says_the_dockerfile_needs_buildkit() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "BuildKit" in readme
    assert "docker compose up" in readme


@pytest.mark.parametrize("path", sorted(KUBERNETES.glob("*.yaml")), ids=lambda path: path.name)
def test_kubernetes_manifest_is_valid(path: Path) -> None:
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        kubernetes_validate.validate(document, kubernetes_validate.latest_version(), strict=True)


def test_strict_validation_catches_a_misspelt_field(manifests: dict[str, dict[str, Any]]) -> None:
    broken = copy.deepcopy(manifests["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, kubernetes_validate.latest_version(), strict=True)


def test_kubernetes_has_the_parts_an_operator_expects(manifests: dict[str, dict[str, Any]]) -> None:
    assert {"Deployment", "Service", "PodDisruptionBudget", "Secret", "ConfigMap"} <= set(manifests)
    deployment = manifests["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels
    assert manifests["Service"]["spec"]["selector"] == labels
    assert manifests["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user


def test_kubernetes_names_only_variables_phonebot_reads(manifests: dict[str, dict[str, Any]]) -> None:
    (container,) = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    named = {entry["name"] for entry in container["env"]} | set(manifests["Secret"]["stringData"])
    assert named <= READ_BY_PHONEBOT, named - READ_BY_PHONEBOT
    assert {"PHONEBOT_CONFIG": CONFIG_PATH}.items() <= {e["name"]: e.get("value") for e in container["env"]}.items()
    (mount,) = container["volumeMounts"]
    assert CONFIG_PATH.startswith(mount["mountPath"] + "/")
    assert container["envFrom"] == [{"secretRef": {"name": manifests["Secret"]["metadata"]["name"]}}]


def test_a_variable_compose_leaves_empty_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """``SLACK_APP_TOKEN: ${SLACK_APP_TOKEN:-}`` passes an empty string when the operator set none."""
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    monkeypatch.setenv("SLACK_CLIENT_ID", "")
    settings = Settings()
    assert settings.slack_app_token is None
    assert settings.slack_client_id is None and not settings.oauth
