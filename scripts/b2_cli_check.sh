#!/usr/bin/env bash
# Proves the B2 test front (scripts/b2_test_server.py) faithful enough, with
# the real b2 CLI (PyPI b2 5.0.2) and b2sdk against it:
# authorize, create a bucket, upload a small file with an awkward name and a
# large file (large-file API, several parts in parallel), list (flat and
# with folders), download both and compare bytes, a ranged download (b2sdk;
# the CLI has no range option), no download from a private bucket without
# a valid token, a restricted key (allowed bucket and name
# prefix enforced), deleting a non-empty bucket refused, delete files, delete
# the bucket. Exits non-zero on any mismatch.
#
# Needs BUCKETFLOW_TEST_B2_ENDPOINT / _KEY_ID / _APPLICATION_KEY (eval
# "$(scripts/b2-test-server env)").
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BUCKETFLOW_TEST_B2_ENDPOINT:?start scripts/b2-test-server and eval its env}"
: "${BUCKETFLOW_TEST_B2_KEY_ID:?}" "${BUCKETFLOW_TEST_B2_APPLICATION_KEY:?}"
venv="$PWD/.venv-b2"
b2="$venv/bin/b2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export B2_ACCOUNT_INFO="$work/account.sqlite"
export B2_ENVIRONMENT="$BUCKETFLOW_TEST_B2_ENDPOINT"
unset B2_APPLICATION_KEY_ID B2_APPLICATION_KEY
fail() { echo "b2_cli_check: FAIL: $*" >&2; exit 1; }
step() { echo "b2_cli_check: $*" >&2; }
q() { "$b2" "$@" </dev/null; }

step "authorize"
q account authorize "$BUCKETFLOW_TEST_B2_KEY_ID" "$BUCKETFLOW_TEST_B2_APPLICATION_KEY" >/dev/null
bucket="cli-check-$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
step "create bucket $bucket"
q bucket create "$bucket" allPrivate >/dev/null
q bucket list | grep -q "$bucket" || fail "bucket list does not show $bucket"

printf 'hello from the b2 cli check\n' > "$work/small.txt"
head -c 12345678 /dev/urandom > "$work/large.bin"
small_name='dir one/sub/small +%ü&=.txt'
step "upload small ($small_name) and large (12 MB, 5 MB parts, 3 threads)"
q file upload --no-progress "$bucket" "$work/small.txt" "$small_name" >/dev/null
q file upload --no-progress --min-part-size 5000000 --threads 3 "$bucket" "$work/large.bin" "large.bin" > "$work/large.json"
python3 - "$work/large.json" "$work/large.bin" <<'PY' || fail "large upload did not go through the large-file API"
import hashlib, json, sys
text = open(sys.argv[1]).read()
info = json.loads(text[text.index('{'):])  # after the 'URL by file name:' lines
sha = hashlib.sha1(open(sys.argv[2], 'rb').read()).hexdigest()
assert info['contentSha1'] in ('none', None), info['contentSha1']   # B2 stores no contentSha1 for large files
assert info['fileInfo'].get('large_file_sha1') == sha, info['fileInfo']
PY
python3 -c 'import json,sys,urllib.request; s=json.load(urllib.request.urlopen(sys.argv[1])); assert s.get("b2_upload_part",0)>=2 and s.get("b2_finish_large_file",0)>=1, s' "$BUCKETFLOW_TEST_B2_ENDPOINT/test/stats" \
  || fail "the CLI did not upload parts"

step "list"
q ls -r "b2://$bucket" > "$work/ls-r.txt"
printf '%s\n' "$small_name" large.bin | sort > "$work/ls-expected.txt"
sort "$work/ls-r.txt" | diff - "$work/ls-expected.txt" >&2 || fail "recursive listing differs"
q ls "b2://$bucket" > "$work/ls.txt"
printf '%s\n' 'dir one/' large.bin | sort > "$work/ls-expected.txt"
sort "$work/ls.txt" | diff - "$work/ls-expected.txt" >&2 || fail "folder listing differs"

step "download and compare"
q file download --no-progress "b2://$bucket/$small_name" "$work/small.out" >/dev/null
cmp "$work/small.txt" "$work/small.out" || fail "small file differs"
q file download --no-progress --threads 4 "b2://$bucket/large.bin" "$work/large.out" >/dev/null
cmp "$work/large.bin" "$work/large.out" || fail "large file differs"

step "ranged download (b2sdk) and restricted key"
"$venv/bin/python" - "$bucket" "$work/large.bin" "$small_name" <<'PY' || fail "range / restricted key check"
import io, os, sys
from b2sdk.v3 import B2Api, InMemoryAccountInfo
from b2sdk.v3.exception import Unauthorized, B2Error
bucket_name, path, small_name = sys.argv[1:4]
data = open(path, 'rb').read()
realm = os.environ['B2_ENVIRONMENT']
api = B2Api(InMemoryAccountInfo())
api.authorize_account(os.environ['BUCKETFLOW_TEST_B2_KEY_ID'], os.environ['BUCKETFLOW_TEST_B2_APPLICATION_KEY'], realm=realm)
bucket = api.get_bucket_by_name(bucket_name)
for lo, hi in [(0, 0), (100, 5_000_123), (len(data) - 10, len(data) - 1)]:
    out = io.BytesIO()
    bucket.download_file_by_name('large.bin', range_=(lo, hi)).save(out)
    assert out.getvalue() == data[lo:hi + 1], (lo, hi, len(out.getvalue()))
# Private bucket: a download without (or with a bogus) token is refused.
import urllib.error, urllib.request
from b2sdk.v3 import b2_url_encode
url = f"{realm}/file/{bucket_name}/{b2_url_encode(small_name)}"
for headers in ({}, {'Authorization': 'bogus'}):
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers))
    except urllib.error.HTTPError as e:
        assert e.code == 401, e.code
    else:
        raise AssertionError('private bucket served a download without authorization')
# A key limited to this bucket and the prefix "dir one/".
key = api.create_key(['listBuckets', 'listFiles', 'readFiles', 'writeFiles'], 'restricted',
                     bucket_ids=[bucket.id_], name_prefix='dir one/')
limited = B2Api(InMemoryAccountInfo())
limited.authorize_account(key.id_, key.application_key, realm=realm)
lb = limited.get_bucket_by_name(bucket_name)
out = io.BytesIO()
lb.download_file_by_name(small_name).save(out)
assert out.getvalue() == b'hello from the b2 cli check\n'
lb.upload_bytes(b'ok', 'dir one/limited.txt')
for attempt in (lambda: lb.upload_bytes(b'no', 'elsewhere.txt'),
                lambda: lb.download_file_by_name('large.bin').save(io.BytesIO())):
    try:
        attempt()
    except (Unauthorized, B2Error) as e:
        assert 'unauthorized' in str(e).lower() or getattr(e, 'code', '') == 'unauthorized', e
    else:
        raise AssertionError('restricted key was allowed outside its prefix')
bucket.hide_file  # (API present)
for v in bucket.ls(latest_only=False, recursive=True):
    pass
fv = bucket.get_file_info_by_name('dir one/limited.txt')
api.delete_file_version(fv.id_, fv.file_name)
api.delete_key(key)
PY

step "non-empty bucket is refused"
if q bucket delete "$bucket" >/dev/null 2>"$work/del.err"; then fail "deleting a non-empty bucket succeeded"; fi
grep -qi "non.empty\|not empty" "$work/del.err" || { cat "$work/del.err" >&2; fail "unexpected error deleting a non-empty bucket"; }

step "delete files and bucket"
q rm -r --versions "b2://$bucket" >/dev/null
[ -z "$(q ls -r --versions "b2://$bucket")" ] || fail "files left after rm"
q bucket delete "$bucket" >/dev/null
if q bucket list | grep -q "$bucket"; then fail "bucket still listed after delete"; fi
echo "b2_cli_check: OK" >&2
