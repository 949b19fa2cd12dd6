"""Deployment files: Kubernetes manifests, z2jh values, the TLJH snippet, the hub guide."""

from __future__ import annotations

import argparse
import configparser
import copy
import os
import re
import shlex
import shutil
from pathlib import Path
from unittest import mock
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
Z2JH = DEPLOY / "z2jh"
TLJH_SNIPPET = DEPLOY / "tljh" / "baeum.py"
SHARED_CONFIG = DEPLOY / "jupyterhub" / "baeum_config.py"  # the lead's single machine
DOCS = [ROOT / "docs" / "hub.md", ROOT / "docs" / "hub.ko.md"]
# An older cluster still common in schools' clouds, and the newest schemas bundled.
K8S_VERSIONS = ("1.28", "1.37")
SERVICE = "baeum"
SCOPE = f"access:services!service={SERVICE}"
GROUPS = "read:users:groups!user"  # how the service learns that a caller is a teacher
PREFIX = f"/services/{SERVICE}/"
NEEDS_SHARED = pytest.mark.skipif(
    not SHARED_CONFIG.is_file(), reason="deploy/jupyterhub/baeum_config.py is not there"
)


def _manifest_docs() -> list[tuple[str, dict]]:
    found = []
    for path in sorted(Z2JH.rglob("*.yaml")):
        # Helm values and patches are not whole Kubernetes objects (patches are
        # checked merged into their object, below).
        if path.name == "values.yaml" or path.name.endswith("-patch.yaml"):
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                found.append((str(path.relative_to(ROOT)), doc))
    return found


MANIFESTS = _manifest_docs()
OBJECTS = {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in MANIFESTS}


def _values() -> dict:
    return yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))


def _pod(kind: str, name: str) -> dict:
    return OBJECTS[(kind, name)]["spec"]["template"]


def _env(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def _service_pod() -> tuple[dict, dict]:
    pod = _pod("Deployment", SERVICE)
    return pod["metadata"]["labels"], pod["spec"]["containers"][0]


def _matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


# The merge keys of the lists a strategic-merge patch may touch (Kubernetes' API:
# patchMergeKey); any other list would be replaced whole, which no patch here does.
MERGE_KEYS = {"containers": "name", "env": "name", "volumeMounts": "mountPath",
              "volumes": "name", "ports": "containerPort"}  # fmt: skip
VLLM_PATCH = Z2JH / "optional" / "vllm-service-patch.yaml"


def _merge(live: object, patch: object, key: str = "") -> object:
    """Return `live` with `patch` applied as `kubectl patch` (strategic merge) does."""
    if isinstance(patch, dict) and isinstance(live, dict):
        merged = dict(live)
        for name, value in patch.items():
            merged[name] = _merge(live[name], value, name) if name in live else value
        return merged
    if isinstance(patch, list):
        assert key in MERGE_KEYS, f"a patch replaces the list {key!r} whole"
        merged = list(live) if isinstance(live, list) else []
        field = MERGE_KEYS[key]
        for item in patch:
            at = [i for i, old in enumerate(merged) if old[field] == item[field]]
            if at:
                merged[at[0]] = _merge(merged[at[0]], item)
            else:
                merged.append(item)
        return merged
    return patch


def _patched(kind: str, name: str, patch: Path) -> dict:
    return _merge(copy.deepcopy(OBJECTS[(kind, name)]),
                  yaml.safe_load(patch.read_text(encoding="utf-8")))  # fmt: skip


# --- Kubernetes manifests ---------------------------------------------------------


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize(
    "doc", [d for _, d in MANIFESTS], ids=[f"{p}:{d['kind']}" for p, d in MANIFESTS]
)
def test_manifest_is_valid_kubernetes(doc, version):
    """Does every object validate against the Kubernetes schema (strict: no unknown fields)?"""
    kubernetes_validate.validate(doc, version, strict=True)


def test_validation_rejects_a_misspelt_field():
    """Would a typo in a manifest be caught (the check above has teeth)?"""
    broken = copy.deepcopy(OBJECTS[("Deployment", SERVICE)])
    spec = broken["spec"]["template"]["spec"]
    spec["container"] = spec.pop("containers")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[-1], strict=True)


def test_every_reference_between_manifests_resolves():
    """Do ConfigMaps, Secrets and volume claims named by pods exist (or come from z2jh)?"""
    claims = {name for kind, name in OBJECTS if kind == "PersistentVolumeClaim"}
    secrets = {name: set(doc.get("stringData", {})) | set(doc.get("data", {}))
               for (kind, name), doc in OBJECTS.items() if kind == "Secret"}  # fmt: skip
    secrets["hub"] = {f"hub.services.{SERVICE}.apiToken"}  # made by the z2jh chart
    for (kind, name), doc in OBJECTS.items():
        if kind not in ("Deployment", "StatefulSet"):
            continue
        spec = doc["spec"]["template"]["spec"]
        claimed = doc["spec"].get("volumeClaimTemplates", [])
        templates = {t["metadata"]["name"] for t in claimed}
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, name
        for container in spec["containers"]:
            mounts = {m["name"] for m in container.get("volumeMounts", [])}
            assert mounts <= {v["name"] for v in spec.get("volumes", [])} | templates
            for source in container.get("envFrom", []):
                assert ("ConfigMap", source["configMapRef"]["name"]) in OBJECTS
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets.get(ref["name"], set()), (name, ref)


def test_ledger_url_names_the_postgres_service():
    """Does KIT_QUOTA_DB point at the PostgreSQL Service, user and database shipped?"""
    _, container = _service_pod()
    url = urlparse(_env(container)["KIT_QUOTA_DB"]["value"])
    assert url.scheme == "postgresql+psycopg"  # the driver of the kit's postgres extra
    service = OBJECTS[("Service", url.hostname)]
    assert url.port in [p["port"] for p in service["spec"]["ports"]]
    db = _env(_pod("StatefulSet", url.hostname)["spec"]["containers"][0])
    assert url.username == db["POSTGRES_USER"]["value"]
    assert url.path.lstrip("/") == db["POSTGRES_DB"]["value"]
    env = _env(container)
    assert ":$(POSTGRES_PASSWORD)@" in env["KIT_QUOTA_DB"]["value"]
    order = list(env)  # Kubernetes expands $(VAR) only from earlier entries
    assert order.index("POSTGRES_PASSWORD") < order.index("KIT_QUOTA_DB")


def test_only_the_service_gets_a_gpu():
    """Does the service pod ask for one GPU, and do students' pods ask for none?"""
    _, container = _service_pod()
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    singleuser = _values()["singleuser"]
    assert "nvidia.com/gpu" not in str(singleuser.get("extraResource", {}))
    assert singleuser["extraEnv"]["KIT_ALLOW_GPU"] == "0"


# --- z2jh values against the manifests ----------------------------------------------


def test_hub_service_entry_points_at_the_service_pod():
    """Do hub.services, the Service and the Deployment agree on name, port and prefix?"""
    services = _values()["hub"]["services"]
    assert list(services) == [SERVICE]
    url = urlparse(services[SERVICE]["url"])
    service = OBJECTS[("Service", url.hostname)]
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    labels, container = _service_pod()
    assert _matches({"matchLabels": service["spec"]["selector"]}, labels)
    (target,) = [p for p in container["ports"] if p["name"] == port["targetPort"]]
    args = container["args"]
    assert container["command"] == ["kit", "serve"]
    assert int(args[args.index("--port") + 1]) == target["containerPort"]
    assert args[args.index("--host") + 1] == "0.0.0.0"  # reachable from other pods
    env = _env(container)
    assert env["JUPYTERHUB_SERVICE_NAME"]["value"] == SERVICE
    assert env["JUPYTERHUB_SERVICE_PREFIX"]["value"] == PREFIX
    assert env["JUPYTERHUB_CLIENT_ID"]["value"] == f"service-{SERVICE}"
    assert env["JUPYTERHUB_API_URL"]["value"] == "http://hub:8081/hub/api"
    token = env["JUPYTERHUB_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token == {"name": "hub", "key": f"hub.services.{SERVICE}.apiToken"}
    assert "api_token" not in services[SERVICE]  # the chart generates it
    assert labels["hub.jupyter.org/network-access-hub"] == "true"  # may call the hub


def test_kernels_are_pointed_at_the_service():
    """Is KIT_SERVICE_URL the hub service's URL plus its prefix?"""
    values = _values()
    url = values["singleuser"]["extraEnv"]["KIT_SERVICE_URL"]
    assert url == values["hub"]["services"][SERVICE]["url"] + PREFIX


def test_tokens_carry_the_access_scope():
    """May every user call the service, and does each server's token carry that right?"""
    from jupyterhub.roles import get_default_roles

    hub = _values()["hub"]
    assert set(hub["loadRoles"]["user"]["scopes"]) == {"self", SCOPE}
    (server,) = [r for r in get_default_roles() if r["name"] == "server"]
    scopes = hub["config"]["KubeSpawner"]["server_token_scopes"]
    assert set(scopes) == set(server["scopes"]) | {SCOPE, GROUPS}
    assert hub["services"][SERVICE]["oauth_client_allowed_scopes"] == [GROUPS]
    assert "load_roles" not in hub["config"].get("JupyterHub", {})  # replaces z2jh's


def test_teachers_group_is_the_one_the_service_reads():
    """Does the hub create the group the service takes for teachers?"""
    group = OBJECTS[("ConfigMap", "baeum-config")]["data"]["KIT_TEACHER_GROUP"]
    assert group in _values()["hub"]["config"]["JupyterHub"]["load_groups"]


def test_students_reach_the_service_and_nothing_else_of_ours():
    """Does the egress rule admit the service pod, but not the ledger or vLLM?"""
    (rule,) = _values()["singleuser"]["networkPolicy"]["egress"]
    (peer,) = rule["to"]
    labels, container = _service_pod()
    assert _matches(peer["podSelector"], labels)
    port = container["ports"][0]["containerPort"]
    assert [p["port"] for p in rule["ports"]] == [port]
    for name in ("baeum-postgres", "baeum-vllm"):
        kind = "StatefulSet" if name == "baeum-postgres" else "Deployment"
        assert not _matches(peer["podSelector"], _pod(kind, name)["metadata"]["labels"])
        policy = OBJECTS[("NetworkPolicy", name)]["spec"]
        assert _matches(policy["podSelector"], _pod(kind, name)["metadata"]["labels"])
        sources = [p["podSelector"] for rule in policy["ingress"] for p in rule["from"]]
        assert sources and all(_matches(s, labels) for s in sources)


# --- vLLM as the service's engine (optional/) ---------------------------------------


def _vllm() -> tuple[dict, dict]:
    pod = _pod("Deployment", "baeum-vllm")["spec"]
    (container,) = pod["containers"]
    return pod, container


def _flag(args: list[str], name: str) -> str:
    assert args.count(name) == 1, name
    return args[args.index(name) + 1]


def _mounts(pod: dict, container: dict) -> dict[str, dict]:
    """Return each claim's mount in a container: {claim: the volumeMount}."""
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"]
              for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}  # fmt: skip
    return {claims[m["name"]]: m for m in container.get("volumeMounts", [])
            if m["name"] in claims}  # fmt: skip


def _patched_service() -> tuple[dict, dict, dict[str, str]]:
    """Return the service's pod spec and container with the vLLM patch, and its env."""
    pod = _patched("Deployment", SERVICE, VLLM_PATCH)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = dict(OBJECTS[("ConfigMap", "baeum-config")]["data"])  # envFrom, then env
    env.update({k: v["value"] for k, v in _env(container).items() if "value" in v})
    return pod, container, env


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_vllm_patch_gives_a_valid_service_deployment(version):
    """Does the patched Deployment still validate, with its one container and claims?"""
    patched = _patched("Deployment", SERVICE, VLLM_PATCH)
    kubernetes_validate.validate(patched, version, strict=True)
    pod = patched["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["containers"]] == ["baeum"]  # merged, not added
    claims = {name for kind, name in OBJECTS if kind == "PersistentVolumeClaim"}
    for volume in pod["volumes"]:
        assert volume["persistentVolumeClaim"]["claimName"] in claims


def test_merge_emulation_matches_kubectl_on_lists():
    """Does the patch helper merge env by name (a real kubectl patch does), not replace?"""
    live = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    patch = {"env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}
    assert _merge(live, patch)["env"] == [{"name": "A", "value": "1"},
        {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]  # fmt: skip
    with pytest.raises(AssertionError):
        _merge({"args": ["a"]}, {"args": ["b"]})  # would replace: not emulated


def test_service_reaches_vllm_through_its_service():
    """Is KIT_VLLM_URL the baeum-vllm Service's name and port, leading to vLLM's port?"""
    from kit.service.config import ServiceConfig

    _, _, env = _patched_service()
    config = ServiceConfig.from_env(env=env)
    assert config.engine == "vllm"
    assert config.engine_url == env["KIT_VLLM_URL"]
    url = urlparse(config.engine_url)
    assert url.scheme == "http" and url.path in ("", "/")
    service = OBJECTS[("Service", url.hostname)]
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    pod, container = _vllm()
    labels = _pod("Deployment", url.hostname)["metadata"]["labels"]
    assert _matches({"matchLabels": service["spec"]["selector"]}, labels)
    (target,) = [p for p in container["ports"] if p["name"] == port["targetPort"]]
    assert int(_flag(container["args"], "--port")) == target["containerPort"]
    # vLLM admits the service pod on that port (and nothing else: see above).
    policy = OBJECTS[("NetworkPolicy", url.hostname)]["spec"]
    assert [p["port"] for r in policy["ingress"] for p in r["ports"]] == [
        target["containerPort"]
    ]


def test_vllm_flags_fit_what_the_service_asks():
    """LoRA on, a rank limit the service's adapters fit, logprobs for top=100?"""
    from dataclasses import fields

    from kit.service.config import ServiceConfig
    from kit.service.vllm_adapters import ZERO

    (rank,) = [f.default for f in fields(ServiceConfig) if f.name == "max_lora_rank"]
    args = _vllm()[1]["args"]
    assert "--enable-lora" in args
    assert int(_flag(args, "--max-lora-rank")) >= rank
    assert int(_flag(args, "--max-logprobs")) >= 100  # next_token_probs(top=100)
    assert int(_flag(args, "--max-cpu-loras")) >= int(_flag(args, "--max-loras"))
    assert _flag(args, "--generation-config") == "vllm"  # no folder's sampling defaults
    assert _flag(args, "--served-model-name") != ZERO  # that name is the zero adapter
    env = _env(_vllm()[1])
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"]["value"] == "True"
    assert env["HF_HUB_OFFLINE"]["value"] == "1"


def test_adapter_paths_the_service_sends_resolve_in_the_vllm_pod():
    """Is baeum-data mounted whole at one path in both pods, with the service dir in it?"""
    from kit.service.config import ServiceConfig

    pod, container, env = _patched_service()
    ours = _mounts(pod, container)["baeum-data"]
    theirs = _mounts(*_vllm())["baeum-data"]
    assert ours["mountPath"] == theirs["mountPath"]
    assert "subPath" not in ours and "subPath" not in theirs
    assert theirs.get("readOnly") is True  # vLLM never writes students' work
    root = Path(theirs["mountPath"])
    config = ServiceConfig.from_env(env=env)
    zero = config.dir / "vllm" / "adapters"  # where VllmAdapters makes its zero adapter
    for sent in (config.adapters_dir, zero):
        assert sent.is_absolute() and sent.is_relative_to(root), sent


def test_vllm_serves_the_model_folder_the_service_loads():
    """Is vLLM's model the service's KIT_MODEL, on the same claim at the same path?"""
    from kit.service.config import ServiceConfig

    pod, container, env = _patched_service()
    vllm_pod, vllm = _vllm()
    folder = vllm["args"][0]  # `vllm serve MODEL`
    assert vllm["command"] == ["vllm", "serve"] and not folder.startswith("-")
    assert ServiceConfig.from_env(env=env).model == folder
    ours, theirs = _mounts(pod, container), _mounts(vllm_pod, vllm)
    (claim,) = [c for c, m in theirs.items() if Path(folder).is_relative_to(
        m["mountPath"])]  # fmt: skip
    assert ours[claim]["mountPath"] == theirs[claim]["mountPath"]


def test_guide_names_the_env_the_service_reads():
    """Is each KIT_ variable the guide gives for vLLM one ServiceConfig.from_env reads?"""
    from kit.service.config import ServiceConfig

    text = "".join(_text(doc) for doc in DOCS)
    named = set(re.findall(r"\bKIT_(?:SERVICE_ENGINE|VLLM_[A-Z_]+)\b", text))
    patch = yaml.safe_load(VLLM_PATCH.read_text(encoding="utf-8"))
    (container,) = patch["spec"]["template"]["spec"]["containers"]
    patched = set(_env(container))
    assert patched - {"KIT_MODEL"} <= named  # the guide explains what the patch sets
    default = ServiceConfig.from_env(env={})
    for name in named | patched:
        value = "vllm" if name == "KIT_SERVICE_ENGINE" else "/srv/x"
        assert ServiceConfig.from_env(env={name: value}) != default, name
    both = {"KIT_SERVICE_ENGINE": "vllm", "KIT_VLLM_URL": "http://baeum-vllm:8000"}
    config = ServiceConfig.from_env(env=both)
    assert (config.engine, config.engine_url) == ("vllm", both["KIT_VLLM_URL"])


@NEEDS_SHARED
def test_same_names_as_the_single_machine_config():
    """Do z2jh and the single-machine hub config register the same service and scopes?"""
    hub, spawner = _load_hub(SHARED_CONFIG, env={})
    (entry,) = [s for s in hub.services if s["name"] == SERVICE]
    z2jh = _values()
    ours = z2jh["hub"]["services"][SERVICE]
    for key in ("oauth_no_confirm", "oauth_client_allowed_scopes", "display"):
        assert entry.get(key) == ours.get(key), key
    assert urlparse(entry["url"]).port == urlparse(ours["url"]).port
    kernels = z2jh["singleuser"]["extraEnv"]["KIT_SERVICE_URL"]
    assert (
        urlparse(spawner.environment["KIT_SERVICE_URL"]).path == urlparse(kernels).path
    )
    config = z2jh["hub"]["config"]
    assert set(spawner.server_token_scopes) == set(
        config["KubeSpawner"]["server_token_scopes"]
    )
    assert set(config["JupyterHub"]["load_groups"]) == set(hub.load_groups)


def test_deployment_flags_are_kit_serve_flags():
    """Does `kit serve` accept the flags the Deployment passes?"""
    from kit.cli import parser

    if "serve" not in _subcommands(parser()):
        pytest.skip("`kit serve` is not built yet")
    _, container = _service_pod()
    args = parser().parse_args(container["command"][1:] + container["args"])
    assert (args.host, args.port) == ("0.0.0.0", 8765)


# --- The Littlest JupyterHub --------------------------------------------------------


def _load_hub(config_file: Path, env: dict):
    """Load a config file the way jupyterhub does; return the hub and a spawner."""
    from jupyterhub.app import JupyterHub
    from jupyterhub.spawner import LocalProcessSpawner

    with mock.patch.dict(os.environ):
        for key in ("BAEUM_PYTHON", "BAEUM_TEACHERS", "BAEUM_CONFIG", "KIT_CACHE_DIR"):
            os.environ.pop(key, None)
        os.environ.update(env)
        hub = JupyterHub()
        hub.load_config_file(str(config_file))
        return hub, LocalProcessSpawner(config=hub.config)


def _tljh(tmp_path: Path, snippet: str, shared: bool = True):
    """Lay out /opt/tljh/config as TLJH does and load it as TLJH's hub config does."""
    config = tmp_path / "config"
    (config / "jupyterhub_config.d").mkdir(parents=True)
    (config / "jupyterhub_config.d" / "baeum.py").write_text(snippet, encoding="utf-8")
    if shared:
        shutil.copy(SHARED_CONFIG, config / "baeum_config.py")
    top = tmp_path / "jupyterhub_config.py"  # TLJH's own loop over jupyterhub_config.d
    top.write_text(
        "from glob import glob\n"
        f"for ec in sorted(glob({str(config)!r} + '/jupyterhub_config.d/*.py')):\n"
        "    load_subconfig(ec)\n",
        encoding="utf-8",
    )
    return _load_hub(top, {"TLJH_INSTALL_PREFIX": str(tmp_path)})


@NEEDS_SHARED
def test_tljh_snippet_sets_up_the_service(tmp_path):
    """Loaded like TLJH loads it, does the snippet register the service, roles, scopes?"""
    hub, spawner = _tljh(tmp_path, TLJH_SNIPPET.read_text(encoding="utf-8"))
    (entry,) = [s for s in hub.services if s["name"] == SERVICE]
    python = str(tmp_path / "user" / "bin" / "python")  # TLJH's user environment
    assert entry["command"] == [python, "-m", "kit.cli", "serve"]
    assert entry["environment"]["KIT_CACHE_DIR"] == "/var/cache/baeum"
    (user,) = [r for r in hub.load_roles if r["name"] == "user"]
    assert SCOPE in user["scopes"]
    assert SCOPE in spawner.server_token_scopes
    assert urlparse(spawner.environment["KIT_SERVICE_URL"]).path == PREFIX
    assert hub.load_groups == {"teachers": {"users": []}}


@NEEDS_SHARED
def test_tljh_snippet_teachers_setting(tmp_path):
    """Does naming teachers in the snippet put them in the teachers group?"""
    text = TLJH_SNIPPET.read_text(encoding="utf-8")
    assert '\nTEACHERS = ""\n' in text
    edited = text.replace('\nTEACHERS = ""\n', '\nTEACHERS = "kim.t, lee.t"\n')
    hub, _ = _tljh(tmp_path, edited)
    assert hub.load_groups == {"teachers": {"users": ["kim.t", "lee.t"]}}


def test_tljh_snippet_without_the_shared_config_says_what_to_do(tmp_path):
    """Without baeum_config.py next to it, does the hub stop with the path and the fix?"""
    with pytest.raises(FileNotFoundError) as caught:
        _tljh(tmp_path, TLJH_SNIPPET.read_text(encoding="utf-8"), shared=False)
    message = str(caught.value)
    assert str(tmp_path / "config" / "baeum_config.py") in message
    assert "deploy/jupyterhub/baeum_config.py" in message
    assert "tljh-config reload hub" in message


def test_tljh_gpu_dropin_gives_the_hub_its_devices():
    """Does the systemd drop-in turn off TLJH's PrivateDevices for the hub's unit?"""
    unit = configparser.ConfigParser()
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(DEPLOY / "tljh" / "gpu.conf", encoding="utf-8")
    assert dict(unit["Service"]) == {"PrivateDevices": "no"}


# --- the guide: every file and command it names exists -----------------------------

PATH = re.compile(r"(?<![\w./-])((?:deploy|docs|kit|tests|benchmarks)/[\w./-]*\w)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"```[^\n]*\n(.*?)```|`([^`\n]+)`", re.S)
KIT = re.compile(r"(?:^|(?<=[\s/(\"']))kit[ \t]+(?=[a-z-])", re.M)
OURS = [DEPLOY / "tljh", Z2JH]
TEXTS = DOCS + sorted(p for d in OURS for p in d.rglob("*") if p.is_file())


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_guide_exists_in_both_languages():
    """Are there an English and a Korean guide, each linking to the other?"""
    assert all(doc.is_file() for doc in DOCS)
    assert "hub.ko.md" in _text(DOCS[0]) and "(hub.md" in _text(DOCS[1])


@pytest.mark.parametrize("path", TEXTS, ids=[str(p.relative_to(ROOT)) for p in TEXTS])
def test_every_repository_path_mentioned_exists(path):
    """Does every deploy/, docs/, kit/, tests/ or benchmarks/ path named exist?"""
    missing = {m for m in PATH.findall(_text(path)) if not (ROOT / m).exists()}
    assert not missing


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_link_resolves(doc):
    """Does every relative link lead to a file, and every #anchor to a heading?"""
    for target in LINK.findall(_text(doc)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        page = (doc.parent / file).resolve() if file else doc
        assert page.exists(), target
        if anchor and page.suffix == ".md":
            assert anchor in _anchors(_text(page)), target


def _anchors(markdown: str) -> set[str]:
    """Return GitHub's anchors for the headings of a markdown page."""
    headings = re.findall(r"^#+ (.+)$", markdown, re.M)
    slugs = (re.sub(r"[^\w\- ]", "", h.strip().lower()) for h in headings)
    return {slug.replace(" ", "-") for slug in slugs}


def _subcommands(parser) -> dict:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return actions[0].choices if actions else {}


def _kit_commands(path: Path) -> list[str]:
    """Return every `kit ...` command in a file (in a markdown page: in its code)."""
    code = _text(path)
    if path.suffix == ".md":
        code = "\n".join(a or b for a, b in CODE.findall(code))
    code = code.replace("\\\n", " ")
    found = []
    for line in code.splitlines():
        for start in KIT.finditer(line):
            # The command ends where the shell (or a diagram) goes on to something else.
            found.append(re.split(r"\s#|&&|\|\||[;|)`]|──", line[start.end() :])[0])
    return found


@pytest.mark.parametrize("path", TEXTS, ids=[str(p.relative_to(ROOT)) for p in TEXTS])
def test_every_kit_command_mentioned_exists(path):
    """Is every `kit` subcommand and flag named in the guide and deploy files real?"""
    from kit.cli import parser

    top = parser()
    prose = path.suffix != ".md"  # comments and docstrings: only real commands count
    for command in _kit_commands(path):
        try:
            words = shlex.split(command)
        except ValueError:  # an apostrophe in prose ("the kit's ...")
            assert prose, f"kit {command}"
            continue
        current = top
        while words and words[0] in _subcommands(current):
            current = _subcommands(current)[words.pop(0)]
        if current is top and prose:
            continue  # "the kit never downloads", not a command
        assert current is not top, f"not a kit subcommand: kit {command}"
        flags = {w.split("=")[0] for w in words if w.startswith("--")}
        assert flags <= set(current._option_string_actions), f"kit {command}"
