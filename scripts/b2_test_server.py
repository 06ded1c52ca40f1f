#!/usr/bin/env python3
"""A small HTTP front over b2sdk's RawSimulator: Backblaze B2's native API
(v4 paths, as b2sdk 2.x and the b2 CLI 5.x call them; v2/v3 paths accepted
too) on 127.0.0.1, for bucketflow's tests. Test use only: state lives in
memory and nothing here is hardened.

    python scripts/b2_test_server.py --port 0 --port-file F --key-id ID --key KEY

The master key id and key come from the command line or from
B2_TEST_KEY_ID / B2_TEST_APPLICATION_KEY.

RawSimulator models B2's semantics (files, versions, large files, keys,
capabilities) but was written for in-process unit tests. Every patch this
front applies is marked `PATCH:` below, with the reason.

Test-only endpoints (no auth, loopback only):
    POST /test/expire_tokens   every account and upload token issued so far
                               answers 401 expired_auth_token from now on
    GET  /test/stats           request counts per API call (JSON)
    POST /test/fail_next       {"api": "b2_upload_file", "status": 503,
                               "code": "service_unavailable", "count": 2}:
                               the next `count` calls of `api` (or
                               "download_by_name") answer that error;
                               status 0 on a download sends half the body
                               and closes the connection; "delay": S slows
                               each call by S seconds instead; "message"
                               sets the error message
"""
import argparse
import base64
import collections
import io
import itertools
import json
import mimetypes
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from b2sdk.v3 import RawSimulator, SSE_NONE  # b2sdk.v2.RawSimulator answers in API v2 shapes; the CLI 5.x speaks v4
from b2sdk._internal.exception import (
    AccessDenied, B2Error, BadJson, BadRequest, ChecksumMismatch, CopySourceTooBig,
    DuplicateBucketName, FileNotPresent, FileSha1Mismatch, InvalidAuthToken, MissingPart,
    NonExistentBucket, PartSha1Mismatch, UnsatisfiableRange, Unauthorized,
)
from b2sdk._internal.raw_simulator import BucketSimulator, KeySimulator, ALL_CAPABILITIES
from b2sdk._internal.raw_api import MetadataDirectiveMode

API = RawSimulator.API_URL  # the URL the simulator's methods assert on

# PATCH: the simulator's ids count down from 9999 per bucket, so two buckets
# hand out the same file id (and the global file-id -> bucket map breaks),
# and it stops after 9999 files. One shared, fixed-width counter counting
# down keeps "newest first" ordering (string and int) for a long while.
_FILE_IDS = itertools.count(10**15 - 1, -1)
_FILE_ID_WIDTH = 15

# PATCH: upload timestamps were a counter from 5000 (1970); use real
# milliseconds, strictly increasing.
_ts_lock = threading.Lock()
_last_ts = [0]


def _next_timestamp():
    with _ts_lock:
        _last_ts[0] = max(int(time.time() * 1000), _last_ts[0] + 1)
        return _last_ts[0]


class _Timestamps:
    def __iter__(self):
        return self

    def __next__(self):
        return _next_timestamp()


class FrontBucket(BucketSimulator):
    # PATCH: simple copies were limited to 200 bytes (the simulator's fake
    # minimum part size); B2 allows up to 5 GB.
    MAX_SIMPLE_COPY_SIZE = 5 * 10**9
    FIRST_FILE_ID = '9' * _FILE_ID_WIDTH

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # PATCH: 200 upload URLs per bucket, then StopIteration; unbounded now.
        self.upload_url_counter = itertools.count()
        self.file_id_counter = _FILE_IDS
        self.upload_timestamp_counter = _Timestamps()


class FrontSimulator(RawSimulator):
    BUCKET_SIMULATOR_CLASS = FrontBucket

    def __init__(self):
        super().__init__()
        # PATCH: at most 100 buckets ever (range(100)); unbounded now.
        self.bucket_id_counter = itertools.count()
        self.request_bucket_id = None

    def _assert_account_auth(self, api_url, account_auth_token, account_id, capability, bucket_id=None, file_name=None):
        # PATCH: most simulator calls (get_upload_url, start_large_file,
        # copy_file, ...) pass no bucket id, so a key restricted to a bucket
        # could never write. The front sets the request's bucket (from
        # bucketId or the file id) before calling, under its lock.
        if bucket_id is None:
            bucket_id = self.request_bucket_id
        return super()._assert_account_auth(api_url, account_auth_token, account_id, capability, bucket_id, file_name)


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def b2_error(exc, not_found_status=404):
    """Maps a simulator exception to B2's (status, code, message)."""
    if isinstance(exc, ApiError):
        return exc
    text = str(exc)
    if isinstance(exc, InvalidAuthToken):
        # PATCH: the simulator says 'auth_token_expired'; B2 says 'expired_auth_token'.
        code = 'expired_auth_token' if 'expired' in (exc.code or '') else (exc.code or 'bad_auth_token')
        return ApiError(401, code, text)
    if isinstance(exc, Unauthorized):
        return ApiError(401, 'unauthorized', text or 'not authorized for this operation')
    if isinstance(exc, AccessDenied):
        return ApiError(403, 'access_denied', text)
    if isinstance(exc, DuplicateBucketName):
        return ApiError(400, 'duplicate_bucket_name', text)
    if isinstance(exc, NonExistentBucket):
        return ApiError(400, 'bad_bucket_id', text)
    if isinstance(exc, FileNotPresent):
        if not_found_status == 400:
            return ApiError(400, 'file_not_present', text)
        return ApiError(404, 'not_found', text)
    if isinstance(exc, (FileSha1Mismatch, ChecksumMismatch)):
        return ApiError(400, 'bad_request', 'Sha1 did not match data received: ' + text)
    if isinstance(exc, PartSha1Mismatch):
        return ApiError(400, 'bad_request', 'Sha1 did not match data received: ' + text)
    if isinstance(exc, MissingPart):
        return ApiError(400, 'missing_part', text)
    if isinstance(exc, CopySourceTooBig):
        return ApiError(400, 'source_too_large', text)
    if isinstance(exc, UnsatisfiableRange):
        return ApiError(416, 'range_not_satisfiable', text)
    if isinstance(exc, BadJson):
        return ApiError(400, 'bad_json', text)
    if isinstance(exc, BadRequest):
        return ApiError(400, getattr(exc, 'code', None) or 'bad_request', text)
    if isinstance(exc, KeyError):
        # The simulator indexes its dicts with unknown ids directly.
        return ApiError(400, 'bad_request', f'invalid id: {exc}')
    if isinstance(exc, B2Error):
        return ApiError(400, getattr(exc, 'code', None) or 'bad_request', text)
    return ApiError(500, 'internal_error', f'{type(exc).__name__}: {text}')


class State:
    def __init__(self, key_id, key, recommended_part_size, min_part_size):
        self.sim = FrontSimulator()
        self.lock = threading.RLock()
        self.recommended_part_size = recommended_part_size
        self.min_part_size = min_part_size
        # The master key, under the given id (the simulator's create_account
        # would invent 'account-0' / 'masterKey-0').
        self.account_id = key_id
        self.sim.key_id_to_key[key_id] = KeySimulator(
            account_id=key_id, name='master', application_key_id=key_id, key=key,
            capabilities=ALL_CAPABILITIES, expiration_timestamp_or_none=None,
            buckets_or_none=None, name_prefix_or_none=None)
        # Opaque upload URL ids -> (upload token, simulator URL, account token).
        self.uploads = {}
        self.in_flight = set()
        self.expired_upload_tokens = set()
        self.stats = collections.Counter()
        self.faults = {}  # api name -> dict(status, code, count, delay, message)


STATE: State = None  # set in main
BASE_URL = ''


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'b2-test-front/1'

    def log_message(self, fmt, *args):
        if os.environ.get('B2_TEST_SERVER_VERBOSE'):
            sys.stderr.write('%s %s\n' % (self.address_string(), fmt % args))

    # -- plumbing -------------------------------------------------------
    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def _send(self, status, payload=None, headers=None, body=None):
        if payload is not None:
            body = json.dumps(payload, default=list).encode()  # the simulator keeps bucket options in a set
            headers = dict(headers or {}, **{'Content-Type': 'application/json'})
        body = body or b''
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if 'Content-Length' not in (headers or {}) and 'content-length' not in (headers or {}):
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _error(self, err: ApiError):
        self._send(err.status, {'status': err.status, 'code': err.code, 'message': err.message})

    def _account_token(self):
        """The caller's account token, checked (401 otherwise)."""
        token = self.headers.get('Authorization')
        sim = STATE.sim
        if not token or token not in sim.auth_token_to_key:
            raise ApiError(401, 'bad_auth_token', 'Invalid authorization token')
        if token in sim.expired_auth_tokens:
            raise ApiError(401, 'expired_auth_token', 'Authorization token has expired')
        return token

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_HEAD(self):
        self._dispatch()

    def _inject_fault(self, name):
        with STATE.lock:
            fault = STATE.faults.get(name)
            if not fault or fault['count'] <= 0:
                return
            fault['count'] -= 1
            STATE.stats['injected_' + name] += 1
        if fault['delay']:
            time.sleep(fault['delay'])  # slow, then answer normally
            return
        if fault['status'] == 0:
            # status 0 (downloads): answer normally but cut the body in half.
            self.truncate_body = True
            return
        self._body()
        raise ApiError(fault['status'], fault['code'], fault['message'])

    def _dispatch(self):
        path = urllib.parse.urlsplit(self.path)
        try:
            if path.path.startswith('/file/'):
                STATE.stats['download_by_name'] += 1
                self._inject_fault('download_by_name')
                return self._download(path)
            if path.path == '/test/fail_next':
                spec = json.loads(self._body() or b'{}')
                with STATE.lock:
                    STATE.faults[spec['api']] = dict(
                        status=int(spec.get('status', 503)), code=spec.get('code', 'service_unavailable'),
                        count=int(spec.get('count', 1)), delay=float(spec.get('delay', 0)),
                        message=spec.get('message', 'injected by /test/fail_next'))
                return self._send(200, {'ok': True})
            if path.path == '/test/expire_tokens':
                self._body()
                with STATE.lock:
                    for token in list(STATE.sim.auth_token_to_key):
                        STATE.sim.expired_auth_tokens.add(token)
                    for entry in STATE.uploads.values():
                        STATE.expired_upload_tokens.add(entry[0])
                return self._send(200, {'expired': True})
            if path.path == '/test/stats':
                return self._send(200, dict(STATE.stats))
            m = re.match(r'^/b2api/v[1-4]/(b2_[a-z_]+)(?:/([A-Za-z0-9_-]+))?$', path.path)
            if not m:
                self._body()
                raise ApiError(404, 'not_found', f'no such API: {path.path}')
            name, url_id = m.groups()
            STATE.stats[name] += 1
            self._inject_fault(name)
            if name == 'b2_download_file_by_id':
                return self._download(path)
            if name in ('b2_upload_file', 'b2_upload_part'):
                return self._upload(name, url_id)
            raw = self._body()
            if name == 'b2_authorize_account':
                return self._send(200, self._authorize())
            params = {}
            if raw:
                try:
                    params = json.loads(raw)
                except ValueError:
                    raise ApiError(400, 'bad_json', 'request body is not JSON')
            if self.command == 'GET':
                params.update({k: v[0] for k, v in urllib.parse.parse_qs(path.query).items()})
            token = self._account_token()
            handler = getattr(self, 'api_' + name[3:], None)
            if handler is None:
                raise ApiError(404, 'not_found', f'{name} is not served by this test front')
            with STATE.lock:
                sim = STATE.sim
                file_id = params.get('fileId') or params.get('sourceFileId') or params.get('largeFileId')
                sim.request_bucket_id = params.get('bucketId') or sim.file_id_to_bucket_id.get(file_id)
                try:
                    result = handler(token, params)
                finally:
                    sim.request_bucket_id = None
            self._send(200, result)
        except ApiError as e:
            self._error(e)
        except Exception as e:  # simulator exceptions
            self._error(b2_error(e))

    # -- account --------------------------------------------------------
    def _authorize(self):
        auth = self.headers.get('Authorization', '')
        if not auth.startswith('Basic '):
            raise ApiError(401, 'bad_auth_token', 'missing Basic authorization')
        try:
            key_id, key = base64.b64decode(auth[6:]).decode().split(':', 1)
        except Exception:
            raise ApiError(401, 'bad_auth_token', 'malformed Basic authorization')
        with STATE.lock:
            result = STATE.sim.authorize_account('', key_id, key)
        # PATCH: real URLs (this front) and real part sizes instead of the
        # simulator's example.com URLs and 200-byte parts.
        storage = result['apiInfo']['storageApi']
        storage.update(apiUrl=BASE_URL, downloadUrl=BASE_URL, s3ApiUrl=BASE_URL,
                       recommendedPartSize=STATE.recommended_part_size,
                       absoluteMinimumPartSize=STATE.min_part_size)
        # PATCH: bucketId/bucketName at the top of `allowed` as B2 v2 also had.
        allowed = storage['allowed']
        buckets = allowed.get('buckets') or []
        if len(buckets) == 1:
            allowed['bucketId'] = buckets[0]['id']
            allowed['bucketName'] = buckets[0]['name']
        return result

    def api_create_key(self, token, p):
        bucket_ids = p.get('bucketIds') or ([p['bucketId']] if p.get('bucketId') else None)
        return STATE.sim.create_key(API, token, p['accountId'], p['capabilities'], p['keyName'],
                                    p.get('validDurationInSeconds'), bucket_ids, p.get('namePrefix'))

    def api_list_keys(self, token, p):
        return STATE.sim.list_keys(API, token, p['accountId'], p.get('maxKeyCount') or 1000,
                                   p.get('startApplicationKeyId'))

    def api_delete_key(self, token, p):
        return STATE.sim.delete_key(API, token, p['applicationKeyId'])

    # -- buckets --------------------------------------------------------
    def api_list_buckets(self, token, p):
        return STATE.sim.list_buckets(API, token, p['accountId'], p.get('bucketId'), p.get('bucketName'))

    def api_create_bucket(self, token, p):
        if p.get('bucketType') not in ('allPrivate', 'allPublic'):
            raise ApiError(400, 'bad_request', 'bucketType must be allPrivate or allPublic')
        name = p.get('bucketName', '')
        if not (6 <= len(name) <= 63):
            raise ApiError(400, 'bad_request', 'bucketName must be 6 to 63 characters')
        # PATCH: B2 buckets are not encrypted unless asked; the simulator
        # defaulted to SSE-B2.
        STATE.sim.create_bucket(API, token, p['accountId'], name, p['bucketType'],
                                p.get('bucketInfo'), p.get('corsRules'), p.get('lifecycleRules'))
        bucket = STATE.sim.bucket_name_to_bucket[name]
        bucket.default_server_side_encryption = SSE_NONE
        return bucket.bucket_dict(token)

    def api_delete_bucket(self, token, p):
        bucket = STATE.sim._get_bucket_by_id(p['bucketId'])
        # PATCH: the simulator deleted non-empty buckets; B2 refuses (any
        # version, hide marker or unfinished large file counts).
        if bucket.file_id_to_file:
            raise ApiError(400, 'cannot_delete_non_empty_bucket', 'Cannot delete non-empty bucket')
        return STATE.sim.delete_bucket(API, token, p['accountId'], p['bucketId'])

    def api_update_bucket(self, token, p):
        return STATE.sim.update_bucket(API, token, p['accountId'], p['bucketId'],
                                       bucket_type=p.get('bucketType'), bucket_info=p.get('bucketInfo'))

    # -- listing --------------------------------------------------------
    def _listing(self, token, p, versions):
        """b2_list_file_names / b2_list_file_versions with `delimiter`.

        PATCH: the simulator had no delimiter, and its nextFileName was
        "last name + space" (wrong for names with bytes below 0x20).
        """
        sim = STATE.sim
        bucket = sim._get_bucket_by_id(p['bucketId'])
        prefix = p.get('prefix') or ''
        sim._assert_account_auth(API, token, bucket.account_id, 'listFiles',
                                 bucket_id=bucket.bucket_id, file_name=prefix)
        delimiter = p.get('delimiter') or None
        start_name = p.get('startFileName') or ''
        start_id = p.get('startFileId') or ''
        count = int(p.get('maxFileCount') or 100)
        if count < 1 or count > 10000:
            raise ApiError(400, 'bad_request', 'maxFileCount out of range')
        entries = []  # (name, id, file_sim or None for folder)
        last_name = None
        folder = None
        for (name, fid) in sorted(bucket.file_name_and_id_to_file):
            if not name.startswith(prefix) or name < start_name:
                continue
            if versions and name == start_name and start_id and fid < start_id:
                continue
            if delimiter:
                rest = name[len(prefix):]
                i = rest.find(delimiter)
                if i >= 0:
                    f = prefix + rest[:i + len(delimiter)]
                    if f != folder:
                        folder = f
                        entries.append((f, None, None))
                    continue
            fsim = bucket.file_name_and_id_to_file[(name, fid)]
            if not versions:
                if name == last_name:
                    continue  # older version
                last_name = name
                if not fsim.is_visible():
                    continue
            elif fsim.action == 'start':
                continue  # unfinished large files are listed elsewhere
            entries.append((name, fid, fsim))
            if len(entries) > count:
                break
        next_name = next_id = None
        if len(entries) > count:
            next_name, next_id = entries[count][0], entries[count][1]
            entries = entries[:count]
        files = []
        for name, fid, fsim in entries:
            if fsim is None:
                files.append(dict(accountId=bucket.account_id, bucketId=bucket.bucket_id, action='folder',
                                  fileName=name, fileId=None, contentLength=0, contentSha1=None,
                                  contentMd5=None, contentType=None, fileInfo={}, uploadTimestamp=0))
            else:
                files.append(fsim.as_list_files_dict(token))
        result = dict(files=files, nextFileName=next_name)
        if versions:
            result['nextFileId'] = next_id
        return result

    def api_list_file_names(self, token, p):
        return self._listing(token, p, versions=False)

    def api_list_file_versions(self, token, p):
        return self._listing(token, p, versions=True)

    def api_get_file_info(self, token, p):
        return STATE.sim.get_file_info_by_id(API, token, p['fileId'])

    def api_delete_file_version(self, token, p):
        try:
            return STATE.sim.delete_file_version(API, token, p['fileId'], p['fileName'],
                                                 bool(p.get('bypassGovernance')))
        except FileNotPresent as e:
            raise b2_error(e, not_found_status=400)

    def api_hide_file(self, token, p):
        return STATE.sim.hide_file(API, token, p['bucketId'], p['fileName'])

    # -- uploads --------------------------------------------------------
    def _new_upload_url(self, sim_url, account_token, kind):
        url_id = secrets.token_hex(8)
        upload_token = 'upl_' + secrets.token_hex(16)
        STATE.uploads[url_id] = (upload_token, sim_url, account_token)
        return f'{BASE_URL}/b2api/v4/{kind}/{url_id}', upload_token

    def api_get_upload_url(self, token, p):
        r = STATE.sim.get_upload_url(API, token, p['bucketId'])
        url, upload_token = self._new_upload_url(r['uploadUrl'], token, 'b2_upload_file')
        return dict(bucketId=r['bucketId'], uploadUrl=url, authorizationToken=upload_token)

    def api_get_upload_part_url(self, token, p):
        r = STATE.sim.get_upload_part_url(API, token, p['fileId'])
        url, upload_token = self._new_upload_url(r['uploadUrl'], token, 'b2_upload_part')
        return dict(fileId=p['fileId'], uploadUrl=url, authorizationToken=upload_token)

    def _check_name_prefix(self, token, file_name):
        # PATCH: the simulator does not apply a key's namePrefix to writes.
        key = STATE.sim.auth_token_to_key[token]
        if key.name_prefix_or_none is not None and not file_name.startswith(key.name_prefix_or_none):
            raise ApiError(401, 'unauthorized', f'key is restricted to names starting with {key.name_prefix_or_none!r}')

    def _upload(self, name, url_id):
        entry = STATE.uploads.get(url_id or '')
        token = self.headers.get('Authorization')
        if entry is None:
            self._body()
            raise ApiError(400, 'bad_request', 'unknown upload URL')
        upload_token, sim_url, account_token = entry
        if token != upload_token:
            self._body()
            raise ApiError(401, 'bad_auth_token', 'Invalid authorization token for this upload URL')
        if upload_token in STATE.expired_upload_tokens or account_token in STATE.sim.expired_auth_tokens:
            self._body()
            raise ApiError(401, 'expired_auth_token', 'Authorization token has expired')
        # B2 allows one upload at a time per upload URL.
        with STATE.lock:
            if url_id in STATE.in_flight:
                busy = True
            else:
                busy = False
                STATE.in_flight.add(url_id)
        if busy:
            STATE.stats['auth_token_limit'] += 1
            self._body()
            raise ApiError(400, 'auth_token_limit', f'more than one upload using auth token {upload_token}')
        try:
            data = self._body()
            sha1 = self.headers.get('X-Bz-Content-Sha1')
            if not sha1:
                raise ApiError(400, 'bad_request', 'X-Bz-Content-Sha1 header is required')
            if len(data) != int(self.headers.get('Content-Length') or -1):
                raise ApiError(400, 'bad_request', 'body shorter than Content-Length')
            with STATE.lock:
                if name == 'b2_upload_part':
                    result = STATE.sim.upload_part(sim_url, sim_url, int(self.headers['X-Bz-Part-Number']),
                                                   len(data), sha1, io.BytesIO(data))
                else:
                    file_name = urllib.parse.unquote_plus(self.headers.get('X-Bz-File-Name') or '')
                    if not file_name:
                        raise ApiError(400, 'bad_request', 'X-Bz-File-Name header is required')
                    if len(file_name.encode()) > 1024:
                        raise ApiError(400, 'bad_request', 'file name longer than 1024 bytes')
                    self._check_name_prefix(account_token, file_name)
                    info = {}
                    for k, v in self.headers.items():
                        if k.lower().startswith('x-bz-info-'):
                            info[k[len('x-bz-info-'):]] = urllib.parse.unquote_plus(v)
                    content_type = self._content_type(self.headers.get('Content-Type'), file_name)
                    result = STATE.sim.upload_file(sim_url, sim_url, file_name, len(data), content_type,
                                                   sha1, info, io.BytesIO(data))
            self._send(200, result)
        except Exception as e:
            raise b2_error(e)
        finally:
            with STATE.lock:
                STATE.in_flight.discard(url_id)

    @staticmethod
    def _content_type(content_type, file_name):
        # PATCH: the simulator stored 'b2/x-auto' literally; B2 picks a type
        # from the file name's extension.
        if not content_type or content_type == 'b2/x-auto':
            return mimetypes.guess_type(file_name)[0] or 'application/octet-stream'
        return content_type

    def api_start_large_file(self, token, p):
        self._check_name_prefix(token, p['fileName'])
        content_type = self._content_type(p.get('contentType'), p['fileName'])
        return STATE.sim.start_large_file(API, token, p['bucketId'], p['fileName'], content_type,
                                          p.get('fileInfo') or {})

    def api_finish_large_file(self, token, p):
        return STATE.sim.finish_large_file(API, token, p['fileId'], p['partSha1Array'])

    def api_cancel_large_file(self, token, p):
        return STATE.sim.cancel_large_file(API, token, p['fileId'])

    def api_list_parts(self, token, p):
        return STATE.sim.list_parts(API, token, p['fileId'], p.get('startPartNumber'), p.get('maxPartCount'))

    def api_list_unfinished_large_files(self, token, p):
        return STATE.sim.list_unfinished_large_files(API, token, p['bucketId'], p.get('startFileId'),
                                                     p.get('maxFileCount'), p.get('namePrefix'))

    @staticmethod
    def _range_param(text):
        if not text:
            return None
        m = re.match(r'^bytes=(\d+)-(\d+)$', text)
        if not m:
            raise ApiError(400, 'bad_request', f'bad range {text!r}')
        return int(m.group(1)), int(m.group(2))

    def api_copy_file(self, token, p):
        directive = p.get('metadataDirective')
        if directive not in (None, 'COPY', 'REPLACE'):
            raise ApiError(400, 'bad_request', 'metadataDirective must be COPY or REPLACE')
        directive = MetadataDirectiveMode[directive] if directive else None  # the enum's values are ints
        if p.get('destinationBucketId'):
            dest = STATE.sim._get_bucket_by_id(p['destinationBucketId'])
            STATE.sim._assert_account_auth(API, token, dest.account_id, 'writeFiles')
        self._check_name_prefix(token, p['fileName'])
        result = STATE.sim.copy_file(API, token, p['sourceFileId'], p['fileName'],
                                     self._range_param(p.get('range')), directive, p.get('contentType'),
                                     p.get('fileInfo'), p.get('destinationBucketId'))
        # PATCH: the simulator did not record the copy's bucket, so the copy
        # could never be deleted (or downloaded by id).
        STATE.sim.file_id_to_bucket_id[result['fileId']] = result['bucketId']
        return result

    def api_copy_part(self, token, p):
        return STATE.sim.copy_part(API, token, p['sourceFileId'], p['largeFileId'], int(p['partNumber']),
                                   self._range_param(p.get('range')))

    # -- downloads ------------------------------------------------------
    def _download(self, path):
        """GET/HEAD /file/BUCKET/NAME and b2_download_file_by_id.

        PATCH: the simulator checked no authorization on downloads and got
        ranges wrong at the end of a file; both are done here.
        """
        self._body()
        sim = STATE.sim
        with STATE.lock:
            if path.path.startswith('/file/'):
                rest = path.path[len('/file/'):]
                bucket_name, _, encoded = rest.partition('/')
                file_name = urllib.parse.unquote(encoded)
                bucket = sim.bucket_name_to_bucket.get(bucket_name)
                if bucket is None:
                    raise ApiError(404, 'not_found', f'bucket {bucket_name} does not exist')
                fsim = None
                for (name, fid) in sorted(k for k in bucket.file_name_and_id_to_file if k[0] == file_name):
                    fsim = bucket.file_name_and_id_to_file[(name, fid)]
                    break
                if fsim is None or not fsim.is_visible():
                    raise ApiError(404, 'not_found', f'File with such name does not exist: {file_name}')
            else:
                query = urllib.parse.parse_qs(path.query)
                file_id = (query.get('fileId') or [''])[0]
                bucket_id = sim.file_id_to_bucket_id.get(file_id)
                bucket = sim.bucket_id_to_bucket.get(bucket_id) if bucket_id else None
                fsim = bucket.file_id_to_file.get(file_id) if bucket else None
                if fsim is None or fsim.action != 'upload':
                    raise ApiError(404, 'not_found', f'file id {file_id} does not exist')
            token = self.headers.get('Authorization')
            if bucket.bucket_type != 'allPublic' or token:
                if not token or token not in sim.auth_token_to_key:
                    raise ApiError(401, 'bad_auth_token', 'Invalid authorization token')
                if token in sim.expired_auth_tokens:
                    raise ApiError(401, 'expired_auth_token', 'Authorization token has expired')
                sim._assert_account_auth(API, token, bucket.account_id, 'readFiles',
                                         bucket_id=bucket.bucket_id if sim.auth_token_to_key[token].buckets_or_none else None,
                                         file_name=fsim.name)
            data = fsim.data_bytes
            headers = dict(fsim.as_download_headers(token if token in sim.auth_token_to_key else None, None).items())
        size = len(data)
        range_header = self.headers.get('Range')
        status = 200
        if range_header:
            m = re.match(r'^bytes=(\d*)-(\d*)$', range_header.strip())
            if not m or (m.group(1) == '' and m.group(2) == ''):
                raise ApiError(400, 'bad_request', f'bad Range {range_header!r}')
            if m.group(1) == '':
                start, end = max(0, size - int(m.group(2))), size - 1
            else:
                start = int(m.group(1))
                end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
            if start >= size or start > end:
                raise ApiError(416, 'range_not_satisfiable', f'range {range_header} not satisfiable for {size} bytes')
            data = data[start:end + 1]
            status = 206
            headers['Content-Range'] = f'bytes {start}-{end}/{size}'
        headers['Content-Length'] = str(len(data))
        headers.pop('content-length', None)
        headers['Accept-Ranges'] = 'bytes'
        headers['X-Bz-Upload-Timestamp'] = str(fsim.upload_timestamp)
        headers.pop('x-bz-upload-timestamp', None)
        if getattr(self, 'truncate_body', False):
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self._send(status, headers=headers, body=data)


def main():
    global STATE, BASE_URL
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--port-file')
    parser.add_argument('--key-id', default=os.environ.get('B2_TEST_KEY_ID'))
    parser.add_argument('--key', default=os.environ.get('B2_TEST_APPLICATION_KEY'))
    parser.add_argument('--recommended-part-size', type=int, default=100_000_000)
    parser.add_argument('--min-part-size', type=int, default=5_000_000)
    args = parser.parse_args()
    if not args.key_id or not args.key:
        parser.error('give --key-id and --key (or B2_TEST_KEY_ID / B2_TEST_APPLICATION_KEY)')
    STATE = State(args.key_id, args.key, args.recommended_part_size, args.min_part_size)
    server = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    server.daemon_threads = True
    port = server.server_address[1]
    BASE_URL = f'http://127.0.0.1:{port}'
    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write(f'{port}\n')
        os.replace(args.port_file + '.tmp', args.port_file)
    print(f'b2 test front on {BASE_URL}', flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
