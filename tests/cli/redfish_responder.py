#!/usr/bin/env python3
"""A minimal Redfish service for the tests: DMTF-shaped /redfish/v1, /redfish/v1/Managers, /redfish/v1/Managers/1
over HTTPS on 127.0.0.1, HTTP Basic authentication required, and a manager DateTime skewed by --skew seconds from
the real clock. Prints "PORT <n>" once listening (port 0 = a free port), then serves until killed or --lifetime
seconds pass. Credentials come from the environment (REDFISH_TEST_USER / REDFISH_TEST_PASSWORD), never argv."""
import argparse
import base64
import datetime
import http.server
import json
import os
import ssl
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--skew", type=int, default=0, help="seconds added to the real clock (negative: behind)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=60.0, help="exit after this many seconds")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds before answering the manager (a slow BMC)")
    args = ap.parse_args()
    user = os.environ.get("REDFISH_TEST_USER", "")
    password = os.environ.get("REDFISH_TEST_PASSWORD", "")
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def manager():
        now = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=args.skew)
        return {
            "@odata.type": "#Manager.v1_10_0.Manager",
            "@odata.id": "/redfish/v1/Managers/1",
            "Id": "1",
            "Name": "Manager",
            "ManagerType": "BMC",
            "DateTime": now.replace(microsecond=0).isoformat(),
            "DateTimeLocalOffset": "+00:00",
        }

    resources = {
        "/redfish/v1": lambda: {
            "@odata.type": "#ServiceRoot.v1_5_0.ServiceRoot",
            "@odata.id": "/redfish/v1",
            "Id": "RootService",
            "RedfishVersion": "1.6.0",
            "Managers": {"@odata.id": "/redfish/v1/Managers"},
        },
        "/redfish/v1/Managers": lambda: {
            "@odata.type": "#ManagerCollection.ManagerCollection",
            "@odata.id": "/redfish/v1/Managers",
            "Members@odata.count": 1,
            "Members": [{"@odata.id": "/redfish/v1/Managers/1"}],
        },
        "/redfish/v1/Managers/1": manager,
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):  # quiet: the tests read stdout for the port only
            pass

        def do_GET(self):
            path = self.path.rstrip("/") or "/"
            if self.headers.get("Authorization") != expected:
                body = b'{"error": "authentication required"}'
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="Redfish"')
            elif path in resources:
                if path == "/redfish/v1/Managers/1" and args.delay > 0:
                    time.sleep(args.delay)
                body = json.dumps(resources[path]()).encode()
                self.send_response(200)
            else:
                body = b'{"error": "not found"}'
                self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
