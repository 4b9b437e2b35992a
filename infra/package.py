"""`make package`: one deployable CloudFormation template in build/.

    python -m infra.package [--stage dev|prod] [--out build]

runs ``chalice package`` (no AWS call: dummy credentials, any region), completes chalice's
SAM template with ``infra.template.complete`` and writes ``<out>/template.json`` beside the
code bundle it refers to, ``<out>/deployment.zip``. Deploying is ``aws cloudformation
package`` (uploads the bundle) then ``aws cloudformation deploy``: see README "Deploying".
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from infra.template import complete

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("dev", "prod")


def chalice_package(stage: str, into: Path) -> dict[str, object]:
    """Chalice's own SAM template for ``stage`` (and deployment.zip) in ``into``."""
    env = dict(os.environ)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(name, None)
    env.update({"AWS_ACCESS_KEY_ID": "packaging", "AWS_SECRET_ACCESS_KEY": "packaging"})
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "package", "--stage", stage, "--pkg-format", "cloudformation"]
    subprocess.run([*command, str(into)], check=True, cwd=ROOT, env=env)  # noqa: S603
    loaded: dict[str, object] = json.loads((into / "sam.json").read_text())
    return loaded


def prune_chalice_cache(keep: int = 2) -> None:
    """Chalice caches one ~24 MB bundle per state of requirements.txt, app.py and chalicelib/
    in .chalice/deployments and never deletes any: keep the newest few."""
    bundles = sorted(
        (ROOT / ".chalice" / "deployments").glob("*.zip"),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for stale in bundles[keep:]:
        stale.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=STAGES, default="dev")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out: Path = args.out
    raw = out / "chalice"
    shutil.rmtree(raw, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    template = complete(chalice_package(args.stage, raw), args.stage)
    shutil.move(raw / "deployment.zip", out / "deployment.zip")
    (out / "template.json").write_text(json.dumps(template, indent=1) + "\n")
    shutil.rmtree(raw)
    prune_chalice_cache()
    resources = template["Resources"]
    print(
        f"{out / 'template.json'}: stage {args.stage}, {len(resources)} resources, "
        f"{time.monotonic() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
