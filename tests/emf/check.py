"""Checks every CloudWatch Embedded Metric Format line in the given logs against the EMF
schema (tests/emf/schema.json) and the specification's rules on target members (every
metric a directive names is a number at the root, every dimension a string there), and
that each metric the service documents (shared/src/metrics.rs, `NAMES`) was written at
least once. Prints the count per metric; exits non-zero on any failure."""

import json
import pathlib
import re
import sys

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parents[2]


def documented_names():
    source = (ROOT / "shared/src/metrics.rs").read_text()
    block = re.search(r"pub const NAMES: \[&str; \d+\] = \[(.*?)\];", source, re.S)
    return re.findall(r'"([A-Za-z]+)"', block.group(1))


def main(paths):
    schema = json.loads((ROOT / "tests/emf/schema.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    counts, problems, lines = {}, [], 0
    for path in paths:
        for number, raw in enumerate(pathlib.Path(path).read_text(errors="replace").splitlines(), 1):
            start = raw.find('{')
            if '"_aws"' not in raw or start < 0:
                continue
            text = raw[start:]
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as e:
                problems.append(f"{path}:{number}: an EMF line that is not JSON ({e})")
                continue
            lines += 1
            for error in validator.iter_errors(doc):
                problems.append(f"{path}:{number}: {error.message}")
            for directive in doc.get("_aws", {}).get("CloudWatchMetrics", []):
                for dimension_set in directive.get("Dimensions", []):
                    for key in dimension_set:
                        if not isinstance(doc.get(key), str):
                            problems.append(f"{path}:{number}: dimension {key} is not a string at the root")
                for metric in directive.get("Metrics", []):
                    name = metric.get("Name")
                    value = doc.get(name)
                    if isinstance(value, bool) or not isinstance(value, (int, float)):
                        problems.append(f"{path}:{number}: metric {name} has no number at the root")
                    counts[name] = counts.get(name, 0) + 1
    for name in documented_names():
        if name not in counts:
            problems.append(f"no line of the metric {name} in the suite's logs")
    for name in sorted(counts):
        print(f"  {name}: {counts[name]} line(s)")
    print(f"EMF: {lines} line(s) checked, {len(problems)} problem(s)")
    for p in problems[:50]:
        print("  " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
