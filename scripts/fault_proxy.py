#!/usr/bin/env python3
"""A reverse proxy in front of an S3 server that injects network faults, for
testing retries. Binds 127.0.0.1 only.

    python3 scripts/fault_proxy.py --port 0 --upstream http://127.0.0.1:9000 --every 3 --kill-every 7

Faults, counted over all requests the proxy receives (one shared counter):
  --every N          every Nth request is answered `503 SlowDown` (the request
                     is read and dropped, never forwarded);
  --kill-every M     every Mth request (that was not answered 503) is
                     forwarded, then its connection is killed mid-response:
                     the status line, headers and half the body are sent,
                     then the socket is shut down (for an empty body, half of
                     the head). The upstream did the work; the client never
                     learns the outcome;
  --fail-matching R  every request whose "METHOD path?query" matches the
                     regular expression R is answered 503 SlowDown, forever
                     (faults that never stop);
  --kill-matching R  likewise, every matching request's connection is killed
                     mid-response, forever.

Prints the port it listens on as its first line. Counts go to stderr on exit
and to GET /__fault_proxy/stats (JSON), which is never forwarded.
"""
import argparse
import http.client
import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SLOWDOWN = b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
HOP_BY_HOP = ("transfer-encoding", "connection", "content-length", "keep-alive")


def make_handler(upstream, every, kill_every, fail_matching, kill_matching):
    target = urlsplit(upstream)
    lock = threading.Lock()
    stats = {"requests": 0, "slowdowns": 0, "kills": 0, "forwarded": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/__fault_proxy/stats":
                with lock:
                    data = json.dumps(stats).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            line = f"{self.command} {self.path}"
            with lock:
                stats["requests"] += 1
                n = stats["requests"]
                fail = (every > 0 and n % every == 0) or (fail_matching is not None and fail_matching.search(line) is not None)
                kill = not fail and ((kill_every > 0 and n % kill_every == 0) or (kill_matching is not None and kill_matching.search(line) is not None))
                if fail:
                    stats["slowdowns"] += 1
                elif kill:
                    stats["kills"] += 1
                else:
                    stats["forwarded"] += 1
            if fail:
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(SLOWDOWN)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(SLOWDOWN)
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            headers = {k: v for k, v in self.headers.items()}
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status, reason = response.status, response.reason
            upstream_headers = response.getheaders()
            connection.close()
            # HEAD answers carry the object's length without a body.
            length = response.getheader("Content-Length") if self.command == "HEAD" else str(len(data))
            head = f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1")
            for key, value in upstream_headers:
                if key.lower() not in HOP_BY_HOP:
                    head += f"{key}: {value}\r\n".encode("latin-1")
            head += f"Content-Length: {length or '0'}\r\n\r\n".encode("latin-1")
            payload = data if self.command != "HEAD" else b""
            if kill:
                cut = head + payload[: len(payload) // 2] if payload else head[: len(head) // 2]
                try:
                    self.wfile.write(cut)
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.close_connection = True
                return
            self.wfile.write(head + payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler, stats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--every", type=int, default=3, help="answer every Nth request 503 SlowDown (0: never)")
    parser.add_argument("--kill-every", type=int, default=0, help="kill every Mth request's connection mid-response (0: never)")
    parser.add_argument("--fail-matching", default=None, help="regex over 'METHOD path': always 503")
    parser.add_argument("--kill-matching", default=None, help="regex over 'METHOD path': always killed mid-response")
    args = parser.parse_args()
    handler, stats = make_handler(args.upstream, args.every, args.kill_every,
                                  re.compile(args.fail_matching) if args.fail_matching else None,
                                  re.compile(args.kill_matching) if args.kill_matching else None)
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(json.dumps(stats), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
