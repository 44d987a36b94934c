#!/usr/bin/env python3
"""An HTTP forwarder in front of an SQS endpoint (JSON protocol) that fails one entry of the
first DeleteMessageBatch as SQS would on its own side: the entry is not forwarded (the message
stays in the queue) and the answer lists it under Failed with SenderFault=false. Everything
else is forwarded as is. For fault-injection tests.

    sqs-fault-proxy.py LISTEN_PORT TARGET_PORT      (both on 127.0.0.1)

Prints "ready" once listening; prints "injected ID" on stderr when it failed an entry.
"""
import http.client
import http.server
import json
import sys
import threading

TARGET = None
LOCK = threading.Lock()
STATE = {"injected": False}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        target = self.headers.get("X-Amz-Target", "")
        injected = None
        if target.endswith(".DeleteMessageBatch"):
            with LOCK:
                if not STATE["injected"]:
                    request = json.loads(body)
                    if len(request.get("Entries", [])) > 1:
                        injected = request["Entries"].pop(0)["Id"]
                        body = json.dumps(request).encode()
                        STATE["injected"] = True
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection", "host")}
        upstream = http.client.HTTPConnection("127.0.0.1", TARGET, timeout=60)
        upstream.request("POST", self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        if injected is not None and response.status == 200:
            answer = json.loads(data)
            answer.setdefault("Failed", []).append(
                {"Id": injected, "Code": "InternalError", "SenderFault": False, "Message": "injected by the test"})
            data = json.dumps(answer).encode()
            print("injected %s" % injected, file=sys.stderr, flush=True)
        self.send_response(response.status)
        for key, value in response.getheaders():
            if key.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()


def main(listen_port, target_port):
    global TARGET
    TARGET = target_port
    server = http.server.ThreadingHTTPServer(("127.0.0.1", listen_port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
