#!/usr/bin/env python3
"""Docker cannot run on our machines: check what can be checked of the packaging instead.
The compose file parses, names the take-home images and builds etl from the Dockerfile,
whose stages and runtime libraries are the ones the README describes."""
import pathlib
import re
import subprocess
import sys

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
if problems:
    print("packaging check failed: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
print("packaging check: compose and Dockerfile consistent")
