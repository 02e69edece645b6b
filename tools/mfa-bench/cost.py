"""Writes the cost of a million logins into BENCHMARKS.md (in place of the section a run
before wrote) from what `mfa-bench` measured the logins' requests consume.

usage: cost.py RESULTS.json BENCHMARKS.md
"""

import json
import math
import sys

results_path, markdown_path = sys.argv[1:3]
r = json.load(open(results_path))
lines = ["<!-- cost:begin -->"]
add = lines.append

# What a million logins cost, from the requests' measured CPU time, round trips and request
# units, at list prices (us-east-1) written with the date they took effect. They are not
# fetched (a benchmark run needs no network): check them against the pages named below.
PRICES_AS_OF = (
    "Lambda arm64 since 2021-09-29, DynamoDB on-demand since its cut of 2024-11-01, "
    "Cognito's tiers since 2024-11-22"
)
PRICES = {
    # AWS Lambda, arm64: per request and per GB-second (https://aws.amazon.com/lambda/pricing/).
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second": 0.0000133334,
    # API Gateway HTTP API, first 300 million a month (https://aws.amazon.com/api-gateway/pricing/).
    "http_api_request": 1.00 / 1e6,
    # DynamoDB on-demand (https://aws.amazon.com/dynamodb/pricing/on-demand/).
    "read_unit": 0.125 / 1e6,
    "write_unit": 0.625 / 1e6,
}
MEMORY_MB = 128
# Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB.
CPU_SHARE = MEMORY_MB / 1769
# DynamoDB's round trip from a function in the same region, which DynamoDB Local on loopback
# does not show: an assumption (AWS: "single-digit milliseconds").
ROUND_TRIP_MS = 5.0
# The audit writer stores the events a request's write carried (their write units are in the
# request's row) with one invocation per batch of the table's stream: assumed 10 events a
# batch (its 10-second window at one login a second) and 10 billed ms an invocation (one
# BatchWriteItem round trip). One event a batch, the quietest traffic, adds $0.18 per
# million events.
AUDIT_BATCH = 10
AUDIT_BATCH_MS = 10
cost = r["cost"]
add("## What a million logins cost")
add("")
add(f"Each login's requests ran in process {cost['logins']} times against DynamoDB Local. Read units")
add("are what DynamoDB Local reports (`ReturnConsumedCapacity: TOTAL`; a small item read plainly")
add(f"and in a transaction first checks it reports what AWS bills: {json.dumps(cost['calibration']['local'])}).")
add("Write units are worked out item by item, as AWS bills them, from the size of every item each")
add("write touched (by AWS's rules for an item's size): one unit per kilobyte begun, twice in a")
add("transaction, a condition check billed as a write. DynamoDB Local reports one figure for a")
add("whole transaction, less than AWS bills for it (shown beside).")
add(f"A function's billed time at {MEMORY_MB} MB arm64")
add(f"is taken as its CPU time measured here (p50, one core of this machine) stretched to the")
add(f"{CPU_SHARE:.3f} of a vCPU that {MEMORY_MB} MB gets, plus {ROUND_TRIP_MS:.0f} ms for each DynamoDB round trip (assumed;")
add(f"loopback cannot show it), rounded up to the millisecond. A change's audit events ride in its write")
add("(in the user's login state) and the audit writer stores each as an item of its own from the table's")
add(f"stream: their write units are the request's (one plain put each), and its invocations are priced at")
add(f"{AUDIT_BATCH} events a batch, {AUDIT_BATCH_MS} billed ms each (assumed; its 10-second window at one login a second). List prices (us-east-1; {PRICES_AS_OF}):")
add(f"Lambda arm64 ${PRICES['lambda_request'] * 1e6:.2f} per million requests and ${PRICES['lambda_gb_second']} per GB-second;")
add(f"HTTP API ${PRICES['http_api_request'] * 1e6:.2f} per million requests; DynamoDB on-demand ${PRICES['read_unit'] * 1e6:.3f}")
add(f"per million read units and ${PRICES['write_unit'] * 1e6:.3f} per million write units.")
add("")
add("| flow | request | CPU ms p50 | round trips | billed ms at 128 MB | read units | write units | audit events | $ per million |")
add("|---|---|---:|---:|---:|---:|---:|---:|---:|")
totals = {}
for row in cost["rows"]:
    trips = row["reads"] + row["writes"]
    billed = math.ceil(row["cpu_ms_p50"] / CPU_SHARE + trips * ROUND_TRIP_MS)
    writer = row.get("audit_events", 0) / AUDIT_BATCH * (
        PRICES["lambda_request"] + AUDIT_BATCH_MS / 1000 * MEMORY_MB / 1024 * PRICES["lambda_gb_second"]
    )
    dollars = 1e6 * (
        PRICES["lambda_request"]
        + writer
        + billed / 1000 * MEMORY_MB / 1024 * PRICES["lambda_gb_second"]
        + PRICES["http_api_request"]
        + row["read_units"] * PRICES["read_unit"]
        + row["write_units"] * PRICES["write_unit"]
    )
    # Each flow twice: as measured, and at the minimum a login needs (no refresh).
    keys = [row["flow"]] + ([f"{row['flow']}, at the minimum"] if row["request"] != "refresh" else [])
    for key in keys:
        totals.setdefault(key, [0.0, 0, 0.0, 0.0, 0.0])
    t = [0.0, 0, 0.0, 0.0, 0.0]
    t[0] += dollars
    t[1] += billed
    t[2] += 1e6 * (PRICES["lambda_request"] + writer + billed / 1000 * MEMORY_MB / 1024 * PRICES["lambda_gb_second"])
    t[3] += 1e6 * PRICES["http_api_request"]
    t[4] += 1e6 * (row["read_units"] * PRICES["read_unit"] + row["write_units"] * PRICES["write_unit"])
    for key in keys:
        totals[key] = [a + b for a, b in zip(totals[key], t)]
    add(
        f"| {row['flow']} | {row['request']} | {row['cpu_ms_p50']:.2f} | {trips:.0f} | {billed} "
        f"| {row['read_units']:.1f} | {row['write_units']:.1f} | {row.get('audit_events', 0):.1f} | {dollars:.2f} |"
    )
add("")
add("What each write unit pays for (the items each request wrote, median size, units per request):")
add("")
add("| flow | request | item (how it was written) | bytes p50 | bytes max | write units |")
add("|---|---|---|---:|---:|---:|")
for row in cost["rows"]:
    for item in row.get("items", []):
        add(f"| {row['flow']} | {row['request']} | {item['item']} | {item['bytes_p50']:.0f} | {item['bytes_max']} | {item['write_units']:.1f} |")
    if row.get("items"):
        add(f"| {row['flow']} | {row['request']} | all of them, as DynamoDB Local reports | | | {row['write_units_as_dynamodb_local_reports']:.1f} |")
add("")
add("A login needs, at the minimum, two requests: `status` (which factors the user has, so the")
add("client asks for one, and whether the login may remember its device) and `verify-login` (the")
add("factor checked, the full-access token issued); the UI kit's `<mfa-challenge>` makes those two.")
add("The refresh keeps a session going past the access token's lifetime; it is not part of")
add("logging in, so each flow is priced both with it and at that minimum.")
add("")
add("| a million logins | Lambda | HTTP API | DynamoDB | total |")
add("|---|---:|---:|---:|---:|")
for flow, t in totals.items():
    add(f"| {flow} | ${t[2]:.2f} | ${t[3]:.2f} | ${t[4]:.2f} | **${t[0]:.2f}** |")
add("")
# The same traffic at per-user prices: a million logins a month is 1,000,000 monthly active
# users if each logs in once, and 100,000 if each logs in ten times.
PER_USER = [
    # (name, free users a month, $ per user a month beyond them)
    ("Amazon Cognito Essentials (MFA included)", 10_000, 0.015),
    ("Amazon Cognito Plus", 0, 0.020),
]
add("The same million logins at published per-user prices (https://aws.amazon.com/cognito/pricing/):")
add("")
add("| | 100,000 users, ten logins each | 1,000,000 users, one login each |")
add("|---|---:|---:|")
for flow, t in totals.items():
    add(f"| this service, {flow} | ${t[0]:.2f} | ${t[0]:.2f} |")
for name, free, price in PER_USER:
    add(f"| {name} | ${max(0, 100_000 - free) * price:,.0f} | ${max(0, 1_000_000 - free) * price:,.0f} |")
add("| Auth0 | not published at these sizes (its self-serve plans end far below 100,000 users) | |")
add("")
add("This service's figure leaves out what does not change with the login count: CloudWatch Logs,")
add("the table's storage and point-in-time recovery, and the cold starts of a function's first")
add("requests. Its CPU times include the harness building each request and reading its answer,")
add("so they are an overestimate; x86_64 here and Graviton there differ in speed too.")
add("<!-- cost:end -->")
section = "\n".join(lines)
try:
    text = open(markdown_path).read()
except OSError:
    text = "# Benchmarks\n"
if "<!-- cost:begin -->" in text:
    begin, end = text.index("<!-- cost:begin -->"), text.index("<!-- cost:end -->") + len("<!-- cost:end -->")
    text = text[:begin] + section + text[end:]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(markdown_path, "w").write(text)
print(section)
