#!/usr/bin/env python3
"""Checks that the S3 test servers really check signatures, with boto3.

For each server named in BUCKETFLOW_TEST_S3_SERVERS (endpoint and keys from
BUCKETFLOW_TEST_S3_<NAME>_*): a wrong secret must be refused with
SignatureDoesNotMatch (HTTP 403), and correctly signed requests must succeed
even for a key holding every character S3 clients trip over (moto needs the
raw-URI launcher for that). Exits non-zero, naming the server, otherwise.
"""
import os
import sys
import uuid

import boto3
import botocore
from botocore.config import Config

AWKWARD = "chk/a b+c&d=e!f'g(h)i*j,k;l:m@n$o%p[q]r~s ünï 日本"


def client(endpoint, access, secret):
    return boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=access, aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))


def check(name):
    prefix = f"BUCKETFLOW_TEST_S3_{name.upper()}_"
    endpoint, access, secret = (os.environ[prefix + k] for k in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY"))
    try:
        client(endpoint, access, secret + "x").list_buckets()
        return f"{name}: a wrong secret was accepted: signature checking is off"
    except botocore.exceptions.ClientError as error:
        code = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        if code != "SignatureDoesNotMatch" or status != 403:
            return f"{name}: a wrong secret got {code} (HTTP {status}), expected SignatureDoesNotMatch (403)"
    good = client(endpoint, access, secret)
    bucket = "bf-check-" + uuid.uuid4().hex[:12]
    try:
        good.create_bucket(Bucket=bucket)
        good.put_object(Bucket=bucket, Key=AWKWARD, Body=b"ok")
        listed = good.list_objects_v2(Bucket=bucket, Prefix="chk/", Delimiter="/")
        keys = [item["Key"] for item in listed.get("Contents", [])]
        if keys != [AWKWARD]:
            return f"{name}: listing returned {keys!r}"
        good.delete_object(Bucket=bucket, Key=AWKWARD)
        good.delete_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        return f"{name}: a correctly signed request with an awkward key failed: {error}"
    print(f"s3-test-servers: {name}: wrong secret refused (SignatureDoesNotMatch), awkward keys accepted", file=sys.stderr)
    return None


def main():
    names = [n for n in os.environ.get("BUCKETFLOW_TEST_S3_SERVERS", "").split(",") if n]
    failures = [f for f in (check(n) for n in names) if f]
    for failure in failures:
        print(f"s3-test-servers: {failure}", file=sys.stderr)
    return 1 if failures or not names else 0


if __name__ == "__main__":
    sys.exit(main())
