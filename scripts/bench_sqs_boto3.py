#!/usr/bin/env python3
"""The boto3 side of scripts/bench-sqs.sh, and its queue helpers.

  bench_sqs_boto3.py drain   --queue-url URL --messages N --loops K   # K threads of receive(10)+delete_batch
  bench_sqs_boto3.py produce --queue-url URL --messages N [--max-depth 50] [--threads 3]   # --max-depth 0: no limit
  bench_sqs_boto3.py probe   --queue-url URL --messages N [--interval 0.1]   # one at a time: "message_id<TAB>epoch seconds"
  bench_sqs_boto3.py create-queue NAME | delete-queue URL

Endpoint, region and credentials come from the usual AWS_* variables. boto3's SQS model
speaks only the JSON protocol, so the boto3 drain is always JSON.
"""
import argparse
import os
import sys
import threading
import time

import boto3
from botocore.config import Config


def client(pool=10):
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return boto3.client("sqs", region_name=region, config=Config(max_pool_connections=pool, retries={"max_attempts": 5, "mode": "standard"}))


def drain(args):
    sqs = client(pool=max(10, args.loops * 2))
    deleted, lock = set(), threading.Lock()
    stats = {"receives": 0, "failed": 0}
    start = time.monotonic()
    deadline = start + args.timeout
    last = [start]

    def loop():
        while time.monotonic() < deadline:
            with lock:
                if len(deleted) >= args.messages:
                    return
                if deleted and time.monotonic() - last[0] > args.idle_exit:
                    return
            resp = sqs.receive_message(
                QueueUrl=args.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=args.wait_time,
                MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            )
            msgs = resp.get("Messages", [])
            with lock:
                stats["receives"] += 1
            if not msgs:
                continue
            result = sqs.delete_message_batch(
                QueueUrl=args.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
            )
            with lock:
                for ok in result.get("Successful", []):
                    deleted.add(msgs[int(ok["Id"])]["MessageId"])
                if result.get("Successful"):
                    last[0] = time.monotonic()
                stats["failed"] += len(result.get("Failed", []))

    threads = [threading.Thread(target=loop) for _ in range(args.loops)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Up to the last successful delete: the trailing empty long polls are not work.
    seconds = last[0] - start
    rate = len(deleted) / seconds if seconds > 0 else 0.0
    if len(deleted) < args.messages:
        print(f"boto3-drain: stopped with {len(deleted)} of {args.messages} messages deleted", file=sys.stderr)
    if args.tsv:
        print(f"msgs_per_second\t{rate:.1f}")
    else:
        print(f"boto3-drain: loops={args.loops} deleted={len(deleted)} receives={stats['receives']} "
              f"failed_deletes={stats['failed']} seconds={seconds:.2f} rate={rate:.1f} msgs/s")
    return 0 if deleted else 1


def produce(args):
    """Sends N messages in batches of 10 from several threads, keeping the visible depth under
    --max-depth: deep enough that the consumers never wait on it, shallow enough for moto."""
    sqs = client(pool=max(10, args.threads * 2))
    state, lock = {"sent": 0, "reserved": 0}, threading.Lock()
    body = '{"user_id":"%s","device_type":"android","ip":"10.0.%d.%d","device_id":"a1-b2","locale":"DE","app_version":"2.3.0"}'

    def loop():
        while True:
            depth = 0 if args.max_depth <= 0 else int(sqs.get_queue_attributes(QueueUrl=args.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
                        ["Attributes"]["ApproximateNumberOfMessages"])
            if args.max_depth > 0 and depth >= args.max_depth:
                time.sleep(0.002)
                continue
            with lock:
                n = min(10, args.messages - state["reserved"])
                if n <= 0:
                    return
                first = state["reserved"]
                state["reserved"] += n
            entries = [{"Id": str(i), "MessageBody": body % (f"u{first + i}", (first + i) // 256 % 256, (first + i) % 256)}
                       for i in range(n)]
            result = sqs.send_message_batch(QueueUrl=args.queue_url, Entries=entries)
            with lock:
                state["sent"] += len(result.get("Successful", []))

    threads = [threading.Thread(target=loop) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0 if state["sent"] >= args.messages else 1


def probe(args):
    """Sends N messages one at a time, --interval seconds apart (a shallow queue), and prints
    each one's MessageId and send time (epoch seconds, taken before the request) for the
    send-to-commit latency."""
    sqs = client()
    body = '{"user_id":"probe%d","device_type":"android","ip":"10.9.%d.%d","device_id":"p-%d","locale":"DE","app_version":"2.3.0"}'
    for i in range(args.messages):
        sent = time.time()
        message_id = sqs.send_message(QueueUrl=args.queue_url, MessageBody=body % (i, i // 256 % 256, i % 256, i))["MessageId"]
        print(f"{message_id}\t{sent:.6f}", flush=True)
        time.sleep(args.interval)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("drain")
    d.add_argument("--queue-url", required=True)
    d.add_argument("--messages", type=int, default=2000)
    d.add_argument("--loops", type=int, default=4)
    d.add_argument("--wait-time", type=int, default=1)
    d.add_argument("--timeout", type=float, default=600)
    d.add_argument("--idle-exit", type=float, default=15)
    d.add_argument("--tsv", action="store_true")
    p = sub.add_parser("produce")
    p.add_argument("--queue-url", required=True)
    p.add_argument("--messages", type=int, default=2000)
    p.add_argument("--max-depth", type=int, default=50)
    p.add_argument("--threads", type=int, default=3)
    r = sub.add_parser("probe")
    r.add_argument("--queue-url", required=True)
    r.add_argument("--messages", type=int, default=30)
    r.add_argument("--interval", type=float, default=0.1)
    c = sub.add_parser("create-queue")
    c.add_argument("name")
    x = sub.add_parser("delete-queue")
    x.add_argument("url")
    args = parser.parse_args()
    if args.command == "drain":
        return drain(args)
    if args.command == "produce":
        return produce(args)
    if args.command == "probe":
        return probe(args)
    if args.command == "create-queue":
        print(client().create_queue(QueueName=args.name)["QueueUrl"])
        return 0
    client().delete_queue(QueueUrl=args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
