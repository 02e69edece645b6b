"""Writes BENCHMARKS.md and its chart from the figures `mfa-bench` measured in one run.

usage: report.py RESULTS.json BENCHMARKS.md CHART.png
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

results_path, markdown_path, chart_path = sys.argv[1:4]
r = json.load(open(results_path))
m = r["machine"]
cold = r["cold"]
lines = []
add = lines.append

add("# Benchmarks")
add("")
add("Every figure below comes from one run of `scripts/bench` on one machine; each comparison")
add("is a ratio within that run. Debug builds serve the state the measured requests need;")
add("everything measured is a release build as the deploy build makes it (`opt-level = \"s\"`, no")
add("LTO across crates, `codegen-units = 1`, `panic = \"abort\"`, no unwind tables, an executable")
add("that loads at a fixed address), for this machine's architecture.")
add("")
add(f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux {m['kernel']}, {m['arch']}.")
add("")
add("![cold starts and warm latency](BENCHMARKS.png)")
add("")
add("## Against the targets")
add("")
worst_cold = max(r["cold"]["rows"], key=lambda row: row["ratio"])
trips = r["round_trips"]["successes"]
over_trips = [row for row in trips if row["reads"] > 1 or row["writes"] > 1]
overheads = [row for row in r["warm"] if "overhead_p50_ms" in row and row.get("round_trips") != "none"]
per_route = r.get("per_route", [])
measured = [(row["request"], row["overhead_p50_ms"]) for row in overheads] + [
    (f"{row['function']}: {row['request']}", row["own_p50_ms"]) for row in per_route
]
over_1ms = [m for m in measured if m[1] > 1.0]
peak = max(row["peak_rss_mib"] for row in r["memory"]["rows"])
zips = r.get("arm64", r["sizes"])["rows"]
biggest = max(zips, key=lambda row: row["zipped_bytes"])
def verdict(ok):
    return "met" if ok else "missed"
add("| target | figure | |")
add("|---|---|---|")
add(f"| cold start ≤ 1.5 × hello-world | slowest `{worst_cold['binary']}` {worst_cold['ratio']:.2f} × | {verdict(worst_cold['ratio'] <= 1.5)} |")
add(f"| ≤ 1 read and ≤ 1 write per request, 0 for refusals | {len(trips)} requests, {len(over_trips)} over; {r['round_trips']['refusals_without_round_trips']} of {r['round_trips']['refusals']} refusals at 0 | {verdict(not over_trips and r['round_trips']['refusals'] == r['round_trips']['refusals_without_round_trips'])} |")
worst_over = max(measured, key=lambda m: m[1])
add(f"| own work beyond round trips ≤ 1 ms at p50 | largest `{worst_over[0]}` {worst_over[1]:.2f} ms; {len(over_1ms)} of {len(measured)} over | {verdict(not over_1ms)} |")
cpu_measured = [(row["request"], row["cpu_p50_ms"]) for row in overheads if "cpu_p50_ms" in row] + [
    (f"{row['function']}: {row['request']}", row["cpu_p50_ms"]) for row in per_route if "cpu_p50_ms" in row
]
if cpu_measured:
    cpu_over = [m for m in cpu_measured if m[1] > 1.0]
    worst_cpu = max(cpu_measured, key=lambda m: m[1])
    add(f"| the same, as the process's CPU time | largest `{worst_cpu[0]}` {worst_cpu[1]:.2f} ms; {len(cpu_over)} of {len(cpu_measured)} over | {verdict(not cpu_over)} |")
add(f"| peak RSS ≤ 40 MB | {peak:.1f} MiB | {verdict(peak <= 40)} |")
add(f"| deployment zip ≤ 4 MB ({'arm64' if 'arm64' in r else r['sizes']['arch']}) | largest `{biggest['binary']}` {biggest['zipped_bytes'] / 1e6:.2f} MB | {verdict(biggest['zipped_bytes'] <= 4e6)} |")
add("")
add("## Cold start")
add("")
add(f"Each release binary is spawned against a local Lambda Runtime API with one invocation")
add(f"queued, and timed from spawn to its answer ({cold['runs']} spawns each, round robin). The")
add("invocation carries no token, so it is answered without touching DynamoDB or SES: what is")
add(f"measured is the function's init and one handler call. Target: at most 1.5 × `{cold['baseline']}`,")
add("a hello-world `lambda_http` function built in the same run.")
add("")
if cold.get("lto_baseline"):
    add("")
    add(f"The second column of ratios is against `{cold['lto_baseline']}`, the same hello world built")
    add("with fat LTO and one codegen unit (the smallest, fastest build of it).")
add("")
add("| binary | min ms | median ms | max ms | × baseline | × LTO baseline |")
add("|---|---:|---:|---:|---:|---:|")
for row in cold["rows"]:
    lto = f"{row['ratio_lto']:.2f}" if row.get("ratio_lto") is not None else ""
    add(f"| {row['binary']} | {row['min_ms']:.2f} | {row['median_ms']:.2f} | {row['max_ms']:.2f} | {row['ratio']:.2f} | {lto} |")
worst = max(cold["rows"], key=lambda row: row["ratio"])
add("")
add(f"Slowest: `{worst['binary']}` at {worst['ratio']:.2f} × the baseline.")
add("")
add("## Round trips per request")
add("")
add("Counted at the DynamoDB client by an interceptor: each call once (an attempt the SDK")
add("sends again is not a call of its own). Budget: one read and one write round trip per")
add("request (a transaction is one), none for a refusal of a bad token or bad input.")
add("`tests/tests/suite/budget.rs` asserts the same counts.")
add("")
add("| function | request | reads | writes |")
add("|---|---|---:|---:|")
for row in r["round_trips"]["successes"]:
    add(f"| {row['function']} | {row['request']} | {row['reads']} | {row['writes']} |")
rt = r["round_trips"]
add("")
add(f"Refusals of a bad token or bad input: {rt['refusals']} measured, {rt['refusals_without_round_trips']} with no round trip.")
add("")
add("## Warm latency")
add("")
add("In process (the shared handlers, as a warm function runs them) against DynamoDB Local on")
add("loopback, next to the bare DynamoDB calls measured in the same run. A request's own work")
add("is its time less the time its round trips spent from being sent to their answers' arrival")
add("(measured per request by an interceptor on its DynamoDB client, and on its SES and SNS")
add("clients for a request that mails or texts; what is left is the parse of the request's")
add("event, as the Lambda runtime does it, the handler, and the SDK's building, signing and")
add("reading; the harness reads the answer after the clock stops). The bare calls' own work")
add("is the SDK's alone: what each round trip of a route costs at least.")
add("Target: at most 1 ms at p50. The CPU columns are the process's CPU time over the request")
add("(one runtime thread): its own work without the time the core served another process of")
add("the benchmark's stack (DynamoDB Local's JVM, `cargo lambda watch`), but with the SDK's")
add("and hyper's work while a round trip is away (writing the request, reading the answer).")
add("")
add("| request | p50 ms | p95 ms | p99 ms | round trips | own p50 ms | own p95 ms | CPU p50 ms |")
add("|---|---:|---:|---:|---|---:|---:|---:|")
for row in r["warm"]:
    trips = row.get("round_trips", "")
    own50, own95 = row.get("overhead_p50_ms", row.get("sdk_own_p50_ms")), row.get("overhead_p95_ms", row.get("sdk_own_p95_ms"))
    own = f"{own50:.2f}" if own50 is not None else ""
    own95 = f"{own95:.2f}" if own95 is not None else ""
    cpu = f"{row['cpu_p50_ms']:.2f}" if "cpu_p50_ms" in row else ""
    add(f"| {row['request']} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} | {row['p99_ms']:.2f} | {trips} | {own} | {own95} | {cpu} |")
add("")
if per_route:
    add("### Every route's slowest request")
    add("")
    add(f"Each successful request of the round-trip table, {r.get('rounds', 15)} rounds (each prepared")
    add("over HTTP, then run in process); per route, the request with the most CPU time at p50.")
    add("")
    add("| function | slowest request | p50 ms | own p50 ms | own p95 ms | CPU p50 ms | CPU p95 ms |")
    add("|---|---|---:|---:|---:|---:|---:|")
    for row in per_route:
        cpu = f"{row['cpu_p50_ms']:.2f} | {row['cpu_p95_ms']:.2f}" if "cpu_p50_ms" in row else " | "
        add(f"| {row['function']} | {row['request']} | {row['p50_ms']:.2f} | {row['own_p50_ms']:.2f} | {row['own_p95_ms']:.2f} | {cpu} |")
    add("")
add("## Memory and size")
add("")
add("Peak resident memory of one function process after 1,000 warm invocations of a status")
add("request (token check, one DynamoDB read) through the local Runtime API. Target: 40 MB.")
add("")
add("| binary | peak RSS MiB |")
add("|---|---:|")
for row in r["memory"]["rows"]:
    add(f"| {row['binary']} | {row['peak_rss_mib']:.1f} |")
add("")
sizes = r["sizes"]
add(f"Release binaries ({sizes['arch']}) and their deployment zips (the binary as `bootstrap`,")
add("deflate). Target: 4 MB zipped (Lambda runs arm64; `scripts/package` builds those).")
add("")
add("| binary | MB | MB zipped |")
add("|---|---:|---:|")
for row in sizes["rows"]:
    add(f"| {row['binary']} | {row['bytes'] / 1e6:.2f} | {row['zipped_bytes'] / 1e6:.2f} |")
if "arm64" in r:
    add("")
    add("arm64 (aarch64) release zips, as deployed:")
    add("")
    add("| binary | MB zipped |")
    add("|---|---:|")
    for row in r["arm64"]["rows"]:
        add(f"| {row['binary']} | {row['zipped_bytes'] / 1e6:.2f} |")
add("")
add("## Crypto throughput (one core)")
add("")
add("| operation | per second |")
add("|---|---:|")
for row in r["crypto"]:
    add(f"| {row['what']} | {row['per_second']:,.0f} |")
add("")
# The sections other scripts write are kept as they are: the deploy build's
# (`scripts/package --compare`, package.py) and the cost of a million logins (cost.py).
try:
    old = open(markdown_path).read()
except OSError:
    old = ""
for name in ("cost", "package"):
    if f"<!-- {name}:begin -->" in old:
        begin, end = old.index(f"<!-- {name}:begin -->"), old.index(f"<!-- {name}:end -->")
        lines.append(old[begin : end + len(f"<!-- {name}:end -->")])
        add("")
open(markdown_path, "w").write("\n".join(lines))

fig, (a, b) = plt.subplots(1, 2, figsize=(14, 6))
names = [row["binary"].replace("mfa-", "") for row in cold["rows"]]
ratios = [row["ratio"] for row in cold["rows"]]
a.barh(names, ratios, color=["#888" if row["binary"] == cold["baseline"] else "#2a6" for row in cold["rows"]])
a.axvline(1.5, color="#c33", linestyle="--", label="target 1.5×")
a.set_xlabel("cold start, × hello-world lambda_http (median)")
a.invert_yaxis()
a.legend(loc="lower right")
warm = r["warm"]
labels = [row["request"] for row in warm]
a_p50 = [row["p50_ms"] for row in warm]
a_p99 = [row["p99_ms"] for row in warm]
y = range(len(labels))
b.barh([i + 0.2 for i in y], a_p50, height=0.4, label="p50", color="#26a")
b.barh([i - 0.2 for i in y], a_p99, height=0.4, label="p99", color="#9bd")
b.set_yticks(list(y))
b.set_yticklabels(labels)
b.set_xlabel("warm latency, ms (in process, DynamoDB Local)")
b.invert_yaxis()
b.legend(loc="lower right")
fig.suptitle(f"MFA API benchmarks — {m['cpu']}, {m['cores']} cores")
fig.tight_layout()
fig.savefig(chart_path, dpi=100)
print(f"wrote {markdown_path} and {chart_path}")
