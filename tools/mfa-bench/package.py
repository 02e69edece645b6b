"""Writes the deploy build's section of BENCHMARKS.md from `scripts/package --compare`'s
figures (one JSON line per build option), in place of the section a run before wrote.

usage: package.py OPTIONS.jsonl BENCHMARKS.md MACHINE
"""

import json
import sys

options_path, markdown_path, machine = sys.argv[1:4]
everything = [json.loads(line) for line in open(options_path) if line.strip()]
# A row with "stopped" is an option whose build was stopped before it finished: its note says
# how far it got.
rows = [row for row in everything if "stopped" not in row]
stopped = [row for row in everything if "stopped" in row]
budget_zip, budget_ratio, budget_seconds = 4_000_000, 1.5, 600


def slowest(row):
    cold = {k: v for k, v in row["cold"].items() if k != "hello-lambda"}
    name = max(cold, key=lambda k: cold[k]["ratio"])
    return name, cold[name]["ratio"]


lines = ["<!-- package:begin -->", "## The deploy build", ""]
add = lines.append
add("Each row is one `cargo lambda build --release --arm64 --output-format zip` of every")
add(f"function ({rows[0]['functions']}) from a clean target directory, one after another on one machine")
add(f"({machine}), by `scripts/package --compare`. Cold init is the median of 40 spawns of the")
add("option's own host build (x86_64: an arm64 binary does not run here) against a local")
add("Lambda Runtime API, as a ratio to a hello-world `lambda_http` function built the same way;")
add("the slowest of the measured functions (the largest ones, Frontegg's login and the")
add("authorizer) is shown. Budgets: 10 minutes, 4 MB a zip, 1.5 × the baseline.")
add("")
add("| lto | codegen-units | build | largest zip | all zips | slowest cold init | authorizer | within budgets |")
add("|---|---:|---:|---:|---:|---|---:|---|")
for row in rows:
    name, ratio = slowest(row)
    auth = row["cold"].get("mfa-authorizer", {}).get("ratio")
    ok = row["build_seconds"] <= budget_seconds and row["largest_zip"] <= budget_zip and ratio <= budget_ratio
    add(
        f"| {row['lto']} | {row['codegen_units']} | {row['build_seconds'] / 60:.1f} min "
        f"| {row['largest_zip'] / 1e6:.2f} MB (`{row['largest_zip_function']}`) | {row['total_zip'] / 1e6:.1f} MB "
        f"| `{name}` {ratio:.2f} × | {auth:.2f} × | {'yes' if ok else 'no'} |"
        if auth is not None
        else f"| {row['lto']} | {row['codegen_units']} | {row['build_seconds'] / 60:.1f} min "
        f"| {row['largest_zip'] / 1e6:.2f} MB | {row['total_zip'] / 1e6:.1f} MB | `{name}` {ratio:.2f} × | | {'yes' if ok else 'no'} |"
    )
for row in stopped:
    add(f"| {row['lto']} | {row['codegen_units']} | stopped at {row['stopped'] / 60:.0f} min | | | | | no: {row['note']} |")
for row in rows:
    if row.get("note"):
        add("")
        add(f"lto {row['lto']}, codegen-units {row['codegen_units']}: {row['note']}.")
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
