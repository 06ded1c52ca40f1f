#!/usr/bin/env python3
"""moto's S3 server with SigV4 signature checking that works for any key.

moto recomputes a request's signature from the URL after decoding and
re-encoding it, so correctly signed requests are rejected when the key or
query holds characters such as space, + & = ! ' ( ) * , ; : @ $ % [ ] or
non-ASCII (see shared/PEERS.md). This launcher makes moto canonicalize from
the raw request URI, exactly as the client sent and signed it, as S3 does.
Signature checking itself stays on (INITIAL_NO_AUTH_ACTION_COUNT).
"""
import sys

from botocore.awsrequest import AWSRequest
from moto.iam import access_control

_original = access_control.IAMRequestBase._create_aws_request


def _create_aws_request_from_raw_uri(self):
    try:
        import flask

        environ = flask.request.environ
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        host = environ.get("HTTP_HOST")
    except Exception:  # outside a request: keep moto's behaviour
        raw = host = None
    if not raw or not host or "Authorization" not in self._headers:
        return _original(self)
    signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
    headers = self._create_headers_for_aws_request(signed, self._headers)
    request = AWSRequest(method=self._method, url=f"http://{host}{raw}", data=self._body or self._data, headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request


access_control.IAMRequestBase._create_aws_request = _create_aws_request_from_raw_uri

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
