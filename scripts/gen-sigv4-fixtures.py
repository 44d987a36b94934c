#!/usr/bin/env python3
"""Generates Tests/SQSTests/Fixtures/sigv4-botocore.json: SigV4 signatures that botocore
computes for the exact requests our SQS client sends (JSON 1.0 ReceiveMessage, Query
DeleteMessageBatch), with and without a session token, at a fixed date.

Run from the repository root: python3 scripts/gen-sigv4-fixtures.py
"""
import datetime
import json
import pathlib
import urllib.parse
from unittest import mock

import botocore
import botocore.auth
import botocore.credentials
from botocore.awsrequest import AWSRequest

FIXED = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.timezone.utc)
ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
REGION = "us-east-1"
ENDPOINT = "https://sqs.us-east-1.amazonaws.com/"
LOCAL_ENDPOINT = "http://127.0.0.1:4566/"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/fetchde-logins"


def form(pairs):
    """AWS Query form encoding: RFC 3986 unreserved characters only, `%20` for spaces."""
    return "&".join(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}" for k, v in pairs
    )


def receive_json():
    body = json.dumps(
        {
            "QueueUrl": QUEUE_URL,
            "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": 20,
            "MessageSystemAttributeNames": ["SentTimestamp", "ApproximateReceiveCount"],
        },
        separators=(",", ":"),
    )
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "AmazonSQS.ReceiveMessage",
        "x-amzn-query-mode": "true",
    }
    return body, headers


def delete_batch_query():
    pairs = [("Action", "DeleteMessageBatch"), ("Version", "2012-11-05"), ("QueueUrl", QUEUE_URL)]
    handles = ["AQEBz+8j/abc==", "receipt handle with spaces & ünïcødé"]
    for i, handle in enumerate(handles):
        pairs.append((f"DeleteMessageBatchRequestEntry.{i + 1}.Id", str(i)))
        pairs.append((f"DeleteMessageBatchRequestEntry.{i + 1}.ReceiptHandle", handle))
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    return form(pairs), headers, pairs


def sign(name, method, url, headers, body, token):
    credentials = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY, token)
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body.encode())
    auth = botocore.auth.SigV4Auth(credentials, "sqs", REGION)
    # add_auth's own steps, keeping the canonical request before the signature is injected.
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED):
        request.context["timestamp"] = botocore.auth.get_current_datetime().strftime(botocore.auth.SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    auth._inject_signature_to_request(request, auth.signature(auth.string_to_sign(request, canonical), request))
    # Cross-check against botocore's public entry point at the same instant.
    check = AWSRequest(method=method, url=url, headers=dict(headers), data=body.encode())
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=FIXED):
        auth.add_auth(check)
    assert check.headers["Authorization"] == request.headers["Authorization"], name
    return {
        "name": name,
        "service": "sqs",
        "region": REGION,
        "method": method,
        "url": url,
        "headers": headers,
        "body": body,
        "accessKeyID": ACCESS_KEY,
        "secretAccessKey": SECRET_KEY,
        "sessionToken": token,
        "dateEpochSeconds": int(FIXED.timestamp()),
        "expected": {
            "authorization": request.headers["Authorization"],
            "xAmzDate": request.headers["X-Amz-Date"],
            "xAmzSecurityToken": request.headers.get("X-Amz-Security-Token"),
            "canonicalRequest": canonical,
        },
    }


def main():
    cases = []
    json_body, json_headers = receive_json()
    query_body, query_headers, query_pairs = delete_batch_query()
    for token in (None, SESSION_TOKEN):
        suffix = "session-token" if token else "static"
        for endpoint, where in ((ENDPOINT, "aws"), (LOCAL_ENDPOINT, "local")):
            cases.append(sign(f"json-receive-message-{where}-{suffix}", "POST", endpoint, json_headers, json_body, token))
            case = sign(f"query-delete-message-batch-{where}-{suffix}", "POST", endpoint, query_headers, query_body, token)
            case["queryPairs"] = [list(p) for p in query_pairs]
            cases.append(case)
    out = pathlib.Path(__file__).resolve().parent.parent / "Tests/SQSTests/Fixtures/sigv4-botocore.json"
    out.write_text(json.dumps({"generator": f"botocore {botocore.__version__}", "cases": cases}, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {out}")


if __name__ == "__main__":
    main()
