"""The deployment files: Kubernetes manifests against Kubernetes' schema and in the fields that make
several replicas work, the Dockerfile, and the nginx configuration ``deploy/serve.py`` writes."""

import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import kubernetes_validate
import psutil
import pytest
import yaml

from deploy.serve import ROOT, free_port, max_upload_mb, nginx_config

K8S = ROOT / "deploy" / "k8s"
HEALTH = "/_stcore/health"
KUBERNETES_VERSION = "1.37.0"  # the schemas kubernetes-validate 1.37.0 ships, checked offline


def manifests() -> dict[str, dict]:
    return {doc["kind"]: doc for path in sorted(K8S.glob("*.yaml")) if path.name != "kustomization.yaml"
            for doc in yaml.safe_load_all(path.read_text())}


def dockerfile() -> str:
    return (ROOT / "deploy" / "Dockerfile").read_text()


@pytest.mark.parametrize("path", sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"))
def test_each_manifest_is_valid_against_the_kubernetes_schema(path):
    for doc in yaml.safe_load_all((K8S / path).read_text()):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_rejects_a_broken_manifest():
    deployment = manifests()["Deployment"]
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError, match="'three' is not of type 'integer'"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_deployment_runs_replicas_probed_on_the_health_endpoint_with_one_cookie_secret():
    found = manifests()
    deployment = found["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["spec"]["containers"]
    (port,) = container["ports"]
    assert port["containerPort"] == 8501
    assert re.search(r'"--server\.port", "8501"', dockerfile())
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": port["name"]}
    secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}["STREAMLIT_SERVER_COOKIE_SECRET"]
    assert secret == {"name": "poolscope", "key": "cookie-secret"}
    assert container["resources"]["limits"]["cpu"] == "1"  # one interpreter lock: a core per replica

    service = found["Service"]
    assert service["spec"]["selector"] == pod["metadata"]["labels"]
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == port["name"]


def test_ingress_keeps_a_browser_on_one_replica_and_lets_the_largest_upload_through():
    found = manifests()
    ingress = found["Ingress"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert notes["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == f"{max_upload_mb() + 1}m"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (backend,) = [path["backend"]["service"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    assert backend == {"name": found["Service"]["metadata"]["name"], "port": {"name": "http"}}


def test_dockerfile_installs_cpu_torch_runs_as_a_user_and_checks_health():
    text = dockerfile()
    assert "--index-url https://download.pytorch.org/whl/cpu" in text
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in text
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    healthcheck = re.search(r"^HEALTHCHECK (?:.*\\\n)*.*", text, re.M).group(0)
    assert "http://127.0.0.1:8501" + HEALTH in healthcheck


def test_the_upload_limit_is_the_app_config_s():
    assert max_upload_mb() == 20  # .streamlit/config.toml


def test_nginx_config_is_sticky_upgrades_the_websocket_and_fits_the_upload_limit(tmp_path):
    text = nginx_config(tmp_path, "127.0.0.1:8080", [41001, 41002], 50)
    assert "hash $route consistent;" in text
    assert re.findall(r"server 127\.0\.0\.1:(\d+) ", text) == ["41001", "41002"]
    assert "client_max_body_size 51m;" in text
    stream = re.search(r"location /_stcore/stream \{(.*?)\}", text, re.S).group(1)
    assert "proxy_read_timeout 1d;" in stream
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "@" not in text.replace("@prefix", "")  # every placeholder filled
    assert str(tmp_path) + "/nginx.pid" in text and "/var/" not in text
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx, as .ci/run does)")
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_serve_command_prints_the_url_and_sigterm_stops_everything():
    """``deploy/serve.py`` as an administrator runs it: one replica and nginx, then SIGTERM."""
    if not (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")):
        pytest.skip("nginx is not installed (apt-get install nginx, as .ci/run does)")
    port = free_port()
    command = subprocess.Popen([sys.executable, "deploy/serve.py", "--replicas", "1", "--port", str(port),
                                "--host", "127.0.0.1"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        lines = [command.stdout.readline(), command.stdout.readline()]
        assert lines[1].startswith(f"PoolScope is served at http://127.0.0.1:{port} by replicas on ports "), lines
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as reply:
            assert reply.read() == b"ok" and reply.headers["X-PoolScope-Replica"].startswith("127.0.0.1:")
        children = psutil.Process(command.pid).children(recursive=True)
        names = {child.name() for child in children}
        assert "nginx" in names and any(name.startswith("python") for name in names), names
        workdir = next(arg for child in children if child.name() == "nginx" for arg in child.cmdline()
                       if "poolscope-nginx-" in arg)
        command.send_signal(signal.SIGTERM)
        assert command.wait(timeout=30) == 0
        assert command.stdout.read() == "stopping ...\n"
        assert not [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
        assert not Path(workdir).exists()
    finally:
        if command.poll() is None:
            command.kill()
