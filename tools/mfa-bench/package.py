"""Writes the deploy build's section of BENCHMARKS.md from `scripts/package --compare`'s
figures (one JSON line per build option), in place of the section a run before wrote.

usage: package.py OPTIONS.jsonl BENCHMARKS.md MACHINE
"""

import json
import sys

options_path, markdown_path, machine = sys.argv[1:4]
rows = [json.loads(line) for line in open(options_path) if line.strip()]
budget_zip, budget_ratio, budget_seconds = 4_000_000, 1.5, 600


def slowest(row):
    cold = {k: v for k, v in row["cold"].items() if k != "hello-lambda"}
    if not cold:
        return None, None
    name = max(cold, key=lambda k: cold[k]["ratio"])
    return name, cold[name]["ratio"]


def build(row):
    if "stopped" in row:
        return f"stopped at {row['stopped'] / 60:.0f} min ({row['built']} of {row['functions']} built)"
    return f"{row['build_seconds'] / 60:.1f} min"


def zips(row):
    if "largest_zip" not in row:
        return "", ""
    mark = " (of those built)" if "stopped" in row else ""
    return (f"{row['largest_zip'] / 1e6:.2f} MB (`{row['largest_zip_function']}`){mark}",
            "" if "stopped" in row else f"{row['total_zip'] / 1e6:.1f} MB")


lines = ["<!-- package:begin -->", "## The deploy build", ""]
add = lines.append
add("Each row is one `cargo lambda build --release --arm64 --output-format zip` of every")
add(f"function ({rows[0]['functions']}) from a clean target directory, one after another on one machine")
add(f"({machine}), by `scripts/package --compare`; a build still running after")
add("15 minutes is stopped. Cold init is the median of 40 spawns of the option's own host build")
add("(x86_64: an arm64 binary does not run here) against a local Lambda Runtime API, as a")
add("ratio to a hello-world `lambda_http` function built the same way; the slowest of the")
add("measured functions (the largest ones, Frontegg's login and the authorizer) is shown.")
add("Budgets: 10 minutes, 4 MB a zip, 1.5 × the baseline.")
add("")
add("| lto | codegen-units | build | largest zip | all zips | slowest cold init | authorizer | within budgets |")
add("|---|---:|---:|---:|---:|---|---:|---|")
for row in rows:
    name, ratio = slowest(row)
    auth = row["cold"].get("mfa-authorizer", {}).get("ratio")
    largest, total = zips(row)
    ok = ("stopped" not in row and row["build_seconds"] <= budget_seconds and row["largest_zip"] <= budget_zip
          and ratio is not None and ratio <= budget_ratio)
    add(f"| {row['lto']} | {row['codegen_units']} | {build(row)} | {largest} | {total} "
        f"| {f'`{name}` {ratio:.2f} ×' if name else ''} | {f'{auth:.2f} ×' if auth else ''} | {'yes' if ok else 'no'} |")
add("")
add("Cold init of each measured binary, median ms (× baseline):")
add("")
names = sorted({k for row in rows for k in row["cold"]}, key=lambda k: (k != "hello-lambda", k))
add("| binary | " + " | ".join(f"{r['lto']}, {r['codegen_units']}" for r in rows) + " |")
add("|---|" + "---:|" * len(rows))
for name in names:
    cells = []
    for r in rows:
        c = r["cold"].get(name)
        cells.append(f"{c['median_ms']:.2f} ({c['ratio']:.2f} ×)" if c else "")
    add(f"| {name} | " + " | ".join(cells) + " |")
add("<!-- package:end -->")
section = "\n".join(lines)

try:
    text = open(markdown_path).read()
except OSError:
    text = "# Benchmarks\n"
if "<!-- package:begin -->" in text:
    begin, end = text.index("<!-- package:begin -->"), text.index("<!-- package:end -->") + len("<!-- package:end -->")
    text = text[:begin] + section + text[end:]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(markdown_path, "w").write(text)
print(section)
