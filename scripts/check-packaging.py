#!/usr/bin/env python3
"""Docker cannot run on our machines: check what can be checked of the packaging instead.
The compose file parses, names the take-home images and builds etl from the Dockerfile,
whose stages and runtime libraries are the ones the README describes; the image installs
man pages and shell completions; the systemd unit passes `systemd-analyze verify` with its
hardening options; the Kubernetes manifests have probes, a migrate Job and a 0600 key Secret."""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

root = pathlib.Path(__file__).resolve().parent.parent
compose = yaml.safe_load((root / "docker-compose.yml").read_text())
services = compose["services"]
problems = []
if services.get("localstack", {}).get("image") != "fetchdocker/data-takehome-localstack":
    problems.append("localstack must use fetchdocker/data-takehome-localstack")
if services.get("postgres", {}).get("image") != "fetchdocker/data-takehome-postgres":
    problems.append("postgres must use fetchdocker/data-takehome-postgres")
etl = services.get("etl", {})
if etl.get("build") != ".":
    problems.append("etl must be built from the Dockerfile at the root")
for key in ("DATABASE_URL", "AWS_ENDPOINT_URL", "SQS_QUEUE_NAME", "KEYS_DIR"):
    if key not in etl.get("environment", {}):
        problems.append(f"etl environment lacks {key}")
dockerfile = (root / "Dockerfile").read_text()
if dockerfile.count("FROM ") != 2:
    problems.append("Dockerfile must have a build and a runtime stage")
for lib in ("libpq5", "libssl3", "libcurl4"):
    if lib not in dockerfile:
        problems.append(f"runtime image lacks {lib}")
if "COPY Plugins ./Plugins" not in dockerfile:
    problems.append("the build stage must copy Plugins/ (the SQL embedding plugin)")
# The image is built with the toolchain the tests run on.
image = re.search(r"^FROM swift:(\d+\.\d+(?:\.\d+)?)-", dockerfile, re.MULTILINE)
version = subprocess.run(["swift", "--version"], capture_output=True, text=True)
tested = re.search(r"Swift version (\d+\.\d+(?:\.\d+)?)", version.stdout + version.stderr)
if not image:
    problems.append("Dockerfile's build stage must be FROM swift:VERSION-…")
elif not tested:
    problems.append("cannot read the version of the swift toolchain the tests run on")
elif image.group(1) != tested.group(1):
    problems.append(f"Dockerfile builds with Swift {image.group(1)}, the tests run on Swift {tested.group(1)}")
if not (root / "docker/entrypoint.sh").exists():
    problems.append("docker/entrypoint.sh missing")

# Man pages and completions, generated from the commands and installed by the image.
if "generate-manual" not in dockerfile or "/usr/local/share/man/man1/" not in dockerfile:
    problems.append("the image must generate (generate-manual) and install man pages")
for shell in ("bash", "zsh", "fish"):
    if f"--generate-completion-script {shell}" not in dockerfile:
        problems.append(f"the image must generate {shell} completions")
for target in ("/usr/share/bash-completion/completions/etl", "/usr/share/bash-completion/completions/vault",
               "/usr/share/zsh/vendor-completions/", "/usr/share/fish/vendor_completions.d/"):
    if target not in dockerfile:
        problems.append(f"the image must install completions into {target}")

# The systemd unit: hardened, and clean for systemd-analyze (Debian's systemd package, which
# scripts/lib/install-deps.sh installs; never skipped). Its ExecStart binary is replaced by a
# stand-in executable (the real one is installed on the target host); man pages are checked
# only in the image.
unit_path = root / "deploy/systemd/fetchde-etl.service"
if not unit_path.exists():
    problems.append("deploy/systemd/fetchde-etl.service missing")
else:
    unit = unit_path.read_text()
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                   "PrivateDevices=yes", "CapabilityBoundingSet=", "RestrictAddressFamilies=",
                   "SystemCallFilter=@system-service", "MemoryDenyWriteExecute=yes", "ProtectKernelTunables=yes",
                   "User=fetchde", "KillSignal=SIGTERM"):
        if not re.search(rf"^{re.escape(option)}", unit, re.MULTILINE):
            problems.append(f"systemd unit lacks {option}")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        problems.append("systemd-analyze not found (apt-get install systemd; scripts/lib/install-deps.sh does)")
    else:
        with tempfile.TemporaryDirectory() as scratch:
            stand_in = pathlib.Path(scratch) / "etl"
            stand_in.write_text("#!/bin/sh\n")
            stand_in.chmod(0o755)
            copy = pathlib.Path(scratch) / "fetchde-etl.service"
            copy.write_text(unit.replace("/usr/local/bin/etl", str(stand_in)))
            verify = subprocess.run([analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True,
                                    env={**os.environ, "SYSTEMD_LOG_COLOR": "0"})
            output = (verify.stdout + verify.stderr).strip()
            if verify.returncode != 0 or output:
                problems.append("systemd-analyze verify: " + (output.replace("\n", " | ") or f"exit {verify.returncode}"))

# Kubernetes: a Deployment with liveness/readiness probes, a migrate Job, the token key Secret
# mounted 0600, non-root containers.
kube = root / "deploy/kubernetes"
documents = []
for path in sorted(kube.glob("*.yaml")):
    documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
kinds = {}
for document in documents:
    kinds.setdefault(document.get("kind"), []).append(document)
deployments = [d for d in kinds.get("Deployment", []) if d["metadata"]["name"] == "fetchde-etl"]
if not deployments:
    problems.append("deploy/kubernetes lacks the fetchde-etl Deployment")
else:
    pod = deployments[0]["spec"]["template"]["spec"]
    etl_containers = [c for c in pod["containers"] if c.get("command", [])[:2] == ["etl", "run"]]
    if not etl_containers:
        problems.append("the Deployment must run `etl run`")
    for container in etl_containers:
        if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            problems.append("the etl container needs a livenessProbe on /healthz")
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            problems.append("the etl container needs a readinessProbe on /readyz")
    if pod.get("securityContext", {}).get("runAsNonRoot") is not True:
        problems.append("the Deployment's pod must run as non-root")
    secrets = [v["secret"] for v in pod.get("volumes", []) if "secret" in v]
    if not any(s.get("secretName") == "fetchde-token-key" and s.get("defaultMode") == 0o600 for s in secrets):
        problems.append("the token key Secret must be mounted with defaultMode 0600")
if not any(c.get("command") == ["etl", "migrate"] for job in kinds.get("Job", [])
           for c in job["spec"]["template"]["spec"]["containers"]):
    problems.append("deploy/kubernetes lacks a Job running `etl migrate`")
if not any(s["metadata"]["name"] == "fetchde-token-key" for s in kinds.get("Secret", [])):
    problems.append("deploy/kubernetes lacks the fetchde-token-key Secret")
kustomization = kinds.get("Kustomization", [{}])[0].get("resources", [])
for path in kube.glob("*.yaml"):
    if path.name != "kustomization.yaml" and path.name not in kustomization:
        problems.append(f"kustomization.yaml does not list {path.name}")

if problems:
    print("packaging check failed: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print("packaging check: compose, Dockerfile, systemd unit and Kubernetes manifests consistent")
