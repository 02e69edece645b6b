"""The local stand-in for the audit writer's event source mapping (template.yaml,
MfaAuditWriterFunction's Stream event): reads the table's stream from DynamoDB Local, keeps
the records the mapping's filter keeps (a user's login state, inserted or modified), and
invokes the audit writer with them through `cargo lambda watch`, as Lambda would: in
order, a batch at a time, again until it succeeds.

usage: audit_stream.py DYNAMODB_PORT TABLE INVOKE_URL [MARK_FILE]

With MARK_FILE, each poll that found every shard empty writes the time it began there: every
record written before that time has been handed over (the tests wait on it before they read
the audit trail).
"""

import base64
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3

ddb_port, table, invoke_url = sys.argv[1], sys.argv[2], sys.argv[3]
mark_file = sys.argv[4] if len(sys.argv) > 4 else None
LOGIN_STATE = "MFA#LOGIN"
# Idle polls this often; a batch at most this large (the template's BatchSize).
IDLE_SECONDS = 0.01
BATCH = 100

session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")
endpoint = f"http://127.0.0.1:{ddb_port}"
dynamodb = session.client("dynamodb", endpoint_url=endpoint)
streams = session.client("dynamodbstreams", endpoint_url=endpoint)


def log(message):
    print(f"audit stream: {message}", file=sys.stderr, flush=True)


def as_json(value):
    """A stream record as Lambda hands it over (times in epoch seconds, binaries base64)."""
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def kept(record):
    """The mapping's filter: a login state, inserted or modified."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    return record.get("eventName") in ("INSERT", "MODIFY") and keys.get("sk", {}).get("S") == LOGIN_STATE


def invoke(records):
    """Hands a batch to the audit writer, again (after a pause) until it succeeds."""
    body = json.dumps({"Records": [as_json(r) for r in records]}).encode()
    pause = 0.05
    while True:
        try:
            request = urllib.request.Request(invoke_url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                text = answer.read().decode()
                if answer.headers.get("X-Amz-Function-Error") is None and '"errorType"' not in text:
                    return
                log(f"the audit writer failed a batch of {len(records)}: {text[:300]}")
        except (urllib.error.URLError, OSError) as e:
            log(f"the audit writer did not answer: {e}")
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def mark(began):
    if mark_file:
        with open(mark_file + ".new", "w") as f:
            f.write(f"{began:.6f}")
        os.replace(mark_file + ".new", mark_file)


def main():
    stream_arn, iterators, closed, described = None, {}, set(), 0.0
    while True:
        try:
            began = time.time()
            now = time.monotonic()
            if stream_arn is None or now - described > 1.0 or not iterators:
                arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
                if arn != stream_arn:
                    stream_arn, iterators, closed = arn, {}, set()
                    if arn:
                        log(f"reading {arn}")
                if stream_arn:
                    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
                    for shard in shards:
                        shard_id = shard["ShardId"]
                        if shard_id not in iterators and shard_id not in closed:
                            iterators[shard_id] = streams.get_shard_iterator(
                                StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                            )["ShardIterator"]
                described = now
            busy = not stream_arn
            for shard_id, iterator in sorted(iterators.items()):
                out = streams.get_records(ShardIterator=iterator, Limit=BATCH)
                records = [r for r in out.get("Records", []) if kept(r)]
                if records:
                    invoke(records)
                busy = busy or bool(out.get("Records"))
                following = out.get("NextShardIterator")
                if following:
                    iterators[shard_id] = following
                else:
                    # A closed shard: its successor is read after the next description.
                    del iterators[shard_id]
                    closed.add(shard_id)
                    described, busy = 0.0, True
            if not busy:
                mark(began)
                time.sleep(IDLE_SECONDS)
        except Exception as e:  # DynamoDB Local restarting, the table not there yet: again.
            log(f"{type(e).__name__}: {e}")
            stream_arn = None
            time.sleep(0.2)


if __name__ == "__main__":
    main()
