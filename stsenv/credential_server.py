"""The loopback credentials endpoint of `stsenv exec --server`: what the SDKs' container credential provider
reads from AWS_CONTAINER_CREDENTIALS_FULL_URI, sending AWS_CONTAINER_AUTHORIZATION_TOKEN as its
Authorization header.

Bound to 127.0.0.1 on a port the kernel picks; every request must carry the token (compared in constant
time): none is 401, a wrong one 403, and neither says anything about the credentials. A good request gets
`{"AccessKeyId", "SecretAccessKey", "Token", "Expiration"}` from `fetch()` (stsenv's broker: the shared cache,
renewed single-flight with every other stsenv process), so a command that outlives its first credentials
keeps getting fresh ones. Requests are answered one at a time: each is a cache read, or the one refresh.
"""

import hmac
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from stsenv import jsonfast, redact, terminal
from stsenv.errors import StsenvError

HOST = "127.0.0.1"
PATH = "/stsenv/credentials"


class CredentialServer:
    """`fetch()` -> Credentials (with a session token and an expiry) served at `url` to holders of `token`."""

    def __init__(self, fetch):
        self.token = secrets.token_urlsafe(32)
        redact.remember(self.token)
        self._fetch = fetch
        self._one_at_a_time = threading.Lock()
        self._server = ThreadingHTTPServer((HOST, 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://{HOST}:{self._server.server_port}{PATH}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="stsenv-credential-server", daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def authorized(self, header):
        """(HTTP status, message): 200 for the token, 401 without one, 403 for any other."""
        if not header:
            return 401, "no Authorization header (AWS_CONTAINER_AUTHORIZATION_TOKEN)"
        if not hmac.compare_digest(header.encode("utf-8", "replace"), self.token.encode()):
            return 403, "wrong authorization token"
        return 200, None

    def answer(self):
        """(status, body) for an authorized request: the credentials, or the one-line reason there are none."""
        with self._one_at_a_time:
            try:
                credentials = self._fetch()
            except Exception as error:  # stsenv's one line; anything else is a bug, said as one line too
                if isinstance(error, StsenvError):
                    message = redact.scrub(str(error))
                else:
                    message = f"internal error ({type(error).__name__}); run with --debug for details and report it"
                terminal.tell(f"stsenv: exec --server: {message}")
                return 500, {"code": "StsenvError", "message": message}
        return 200, {
            "AccessKeyId": credentials.access_key_id,
            "SecretAccessKey": credentials.secret_access_key,
            "Token": credentials.session_token,
            "Expiration": credentials.expiry_iso,
        }


def _handler_for(server):
    class Handler(BaseHTTPRequestHandler):
        server_version = "stsenv"
        sys_version = ""

        def do_GET(self):
            if self.path.split("?", 1)[0] != PATH:
                return self._send(404, {"message": "not found"})
            status, message = server.authorized(self.headers.get("Authorization"))
            if status != 200:
                return self._send(status, {"message": message})
            self._send(*server.answer())

        def do_POST(self):
            self._send(405, {"message": "only GET"})

        do_PUT = do_DELETE = do_HEAD = do_POST

        def _send(self, status, body):
            data = (jsonfast.dumps_flat(body) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def log_message(self, format, *args):  # no access log on the command's terminal
            terminal.debug("exec --server: " + (format % args))

    return Handler
