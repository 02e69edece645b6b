"""Prints template.yaml as CloudFormation receives it after the SAM transform, as JSON.

The route-consistency tests (tests/tests/suite/template.rs) read what is deployed: the
`AWS::Lambda::Function`s and `AWS::IAM::Role`s SAM makes of each `AWS::Serverless::Function`,
and the stack's KMS key. Offline: the managed-policy map is empty (the template names no
managed policy) and the parameters are dummies.

Usage: .venv/bin/python tests/transform_template.py [template.yaml]
"""

import json
import os
import sys
from pathlib import Path

# SAM builds ARNs for the session's region; nothing here calls AWS.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

try:
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse
except ImportError as e:  # pragma: no cover - the message is the point
    sys.exit(
        f"aws-sam-translator is not installed in this Python ({sys.executable}): {e}. "
        "It belongs in .venv with the other test tools (scripts/lib.sh, PY_TEST_TOOLS)."
    )


class NoManagedPolicies:
    """Stands in for `ManagedPolicyLoader`, which would list IAM's managed policies."""

    def load(self):
        return {}


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else root / "template.yaml"
    template = yaml_parse(path.read_text())
    # `sam deploy` uploads each local CodeUri and puts its S3 address in its place.
    for resource in template.get("Resources", {}).values():
        props = resource.get("Properties") or {}
        uri = props.get("CodeUri")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(uri, str) and not uri.startswith("s3://"):
            props["CodeUri"] = f"s3://packaged/{uri}"
    # Every parameter without a default gets a dummy; the transform only passes them on.
    parameters = {
        name: spec.get("Default", "dummy")
        for name, spec in template.get("Parameters", {}).items()
    }
    out = transform(template, parameters, NoManagedPolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
