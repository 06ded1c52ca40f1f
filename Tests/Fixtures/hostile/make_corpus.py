#!/usr/bin/env python3
"""Generates the hostile-input corpus: malformed or adversarial workflow files.

Each case is CASE.yaml whose first line is `# expect: SUBSTRING`; the test
(Tests/WorkflowTests/HostileCorpusTests.swift) loads every file with
WorkflowLoader.load(path:) and checks that it fails with located diagnostics,
one of which contains SUBSTRING, quickly and without crashing. Regenerate with

    python3 Tests/Fixtures/hostile/make_corpus.py

(it rewrites every generated case; regression cases from the fuzzer live in
the same directory under names starting with `fuzz-` and are kept).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

HEAD = "version: 1\nname: hostile\n"
STORAGE = """storage:
  disk: {provider: local, root: ./buckets}
  s3: {provider: s3, endpoint: "https://s3.example.com", region: us-east-1}
  bb: {provider: b2, credentials: creds}
"""
CREDS = """  creds:
    action: load-credentials
    from: ./creds.json
"""

cases = {}


def case(name, expect, body, raw=False):
    """body: str or bytes; unless raw, the standard header is not added."""
    assert name not in cases, name
    data = body.encode() if isinstance(body, str) else body
    cases[name] = (expect, data)


def wf(steps, storage=STORAGE, extra=""):
    return HEAD + extra + storage + "steps:\n" + CREDS + steps


def step(action, params, sid="s"):
    lines = f"  {sid}:\n    action: {action}\n"
    for p in params:
        lines += f"    {p}\n"
    return lines


# --- numbers out of range, per numeric parameter ---------------------------
num = [
    ("max-parse-size-huge", "inspect", ["at: disk://bkt/x", "max-parse-size: 9999999999TiB"], "`max-parse-size`"),
    ("max-parse-size-zero", "inspect", ["at: disk://bkt/x", "max-parse-size: 0"], "`max-parse-size`"),
    ("max-parse-size-negative", "inspect", ["at: disk://bkt/x", "max-parse-size: -5"], "`max-parse-size`"),
    ("max-parse-size-nan", "inspect", ["at: disk://bkt/x", "max-parse-size: .nan"], "`max-parse-size`"),
    ("max-parse-size-inf", "inspect", ["at: disk://bkt/x", "max-parse-size: .inf"], "`max-parse-size`"),
    ("max-parse-size-words", "inspect", ["at: disk://bkt/x", "max-parse-size: lots"], "`max-parse-size`"),
    ("expect-size-inf", "inspect", ["at: disk://bkt/x", "expect: {size: .inf}"], "`size`"),
    ("expect-size-neg-inf", "inspect", ["at: disk://bkt/x", "expect: {size: -.inf}"], "`size`"),
    ("expect-size-nan", "inspect", ["at: disk://bkt/x", "expect: {size: .NaN}"], "`size`"),
    ("expect-min-size-1e300", "inspect", ["at: disk://bkt/x", "expect: {min-size: 1e300}"], "`min-size`"),
    ("expect-max-size-negative", "inspect", ["at: disk://bkt/x", "expect: {max-size: -1}"], "`max-size`"),
    ("expect-size-fraction", "inspect", ["at: disk://bkt/x", "expect: {size: 1.5}"], "`size`"),
    ("expect-size-huge-unit", "inspect", ["at: disk://bkt/x", "expect: {size: 99999999999999TiB}"], "`size`"),
    ("expect-size-list", "inspect", ["at: disk://bkt/x", "expect: {size: [1, 2]}"], "`size`"),
    ("max-keys-1e19", "list", ["at: disk://bkt/", "max-keys: 1e19"], "`max-keys`"),
    ("max-keys-zero", "list", ["at: disk://bkt/", "max-keys: 0"], "`max-keys`"),
    ("max-keys-negative", "list", ["at: disk://bkt/", "max-keys: -1"], "`max-keys`"),
    ("max-keys-fraction", "list", ["at: disk://bkt/", "max-keys: 2.5"], "`max-keys`"),
    ("max-keys-inf", "list", ["at: disk://bkt/", "max-keys: .inf"], "`max-keys`"),
    ("max-keys-hex-overflow", "list", ["at: disk://bkt/", "max-keys: 0xffffffffffffffffffff"], "`max-keys`"),
    ("max-keys-string", "list", ["at: disk://bkt/", "max-keys: many"], "`max-keys`"),
    ("timeout-1e30", "list", ["at: disk://bkt/", "timeout: 1e30"], "`timeout`"),
    ("timeout-1e400", "list", ["at: disk://bkt/", "timeout: 1e400"], "`timeout`"),
    ("timeout-zero", "list", ["at: disk://bkt/", "timeout: 0s"], "`timeout`"),
    ("timeout-nan", "list", ["at: disk://bkt/", "timeout: nan"], "`timeout`"),
    ("timeout-inf", "list", ["at: disk://bkt/", "timeout: inf"], "`timeout`"),
    ("timeout-negative", "list", ["at: disk://bkt/", "timeout: -5s"], "`timeout`"),
    ("timeout-huge-days", "list", ["at: disk://bkt/", "timeout: 99999999999999999999d"], "`timeout`"),
    ("timeout-mapping", "list", ["at: disk://bkt/", "timeout: {s: 1}"], "`timeout`"),
    ("retry-attempts-huge", "list", ["at: disk://bkt/", "retry: {attempts: 100000000000000000000}"], "`attempts`"),
    ("retry-attempts-101", "list", ["at: disk://bkt/", "retry: {attempts: 101}"], "from 1 to 100"),
    ("retry-attempts-zero", "list", ["at: disk://bkt/", "retry: {attempts: 0}"], "`attempts`"),
    ("retry-bare-negative", "list", ["at: disk://bkt/", "retry: -3"], "`retry`"),
    ("retry-bare-1e19", "list", ["at: disk://bkt/", "retry: 1e19"], "`retry`"),
    ("retry-backoff-1e30", "list", ["at: disk://bkt/", "retry: {attempts: 2, backoff: 1e30}"], "`backoff`"),
    ("retry-max-backoff-inf", "list", ["at: disk://bkt/", "retry: {attempts: 2, max-backoff: .inf}"], "`max-backoff`"),
    ("retry-backoff-garbage", "list", ["at: disk://bkt/", "retry: {attempts: 2, backoff: soon}"], "`backoff`"),
    ("retry-unknown-key", "list", ["at: disk://bkt/", "retry: {atempts: 2}"], "did you mean \"attempts\""),
]
for name, action, params, expect in num:
    case(name, expect, wf(step(action, params)))

case("concurrency-huge", "`concurrency`", HEAD + "concurrency: 1e19\n" + "steps:\n" + step("list", ["at: disk://bkt/"]))
case("concurrency-zero", "`concurrency`", wf(step("list", ["at: disk://bkt/"]), extra="concurrency: 0\n"))
case("concurrency-2000", "from 1 to 1024", wf(step("list", ["at: disk://bkt/"]), extra="concurrency: 2000\n"))
case("keep-negative", "`keep`", wf(step("list", ["at: disk://bkt/"]), extra="keep: -1\n"))
case("keep-nan", "`keep`", wf(step("list", ["at: disk://bkt/"]), extra="keep: .nan\n"))
case("version-huge", "unsupported version", "version: 99999999999999999999999\nname: x\nsteps:\n" + step("list", ["at: disk://bkt/"]))

s3 = lambda extra: "storage:\n  s3: {provider: s3, endpoint: \"https://s3.example.com\", " + extra + "}\n"
case("part-size-100gib", "`part-size` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("part-size: 100GiB")))
case("part-size-tiny", "`part-size` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("part-size: 1KiB")))
case("part-size-nan", "`part-size` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("part-size: .nan")))
case("multipart-threshold-huge", "`multipart-threshold` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("multipart-threshold: 9999999999TiB")))
case("part-concurrency-huge", "`part-concurrency` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("part-concurrency: 100000")))
case("max-attempts-1e19", "`max-attempts` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("max-attempts: 1e19")))
case("keep-alive-not-bool", "`keep-alive` of storage", wf(step("list", ["at: s3://bkt/"]), storage=s3("keep-alive: sometimes")))

# --- expressions: depth, length, functions -----------------------------------
case("expr-100-parens", "nests deeper", wf(step("list", ["at: disk://bkt/", "if: " + "(" * 100 + "true" + ")" * 100])))
case("expr-3000-parens", "the limit is 4096", wf(step("list", ["at: disk://bkt/", "if: " + "(" * 3000 + "true" + ")" * 3000])))
case("expr-200000-bangs", "characters long", wf(step("list", ["at: disk://bkt/", "if: \"" + "!" * 200000 + "true\""])))
case("expr-tag-bangs", "did you mean \"needs\"", wf(step("list", ["at: disk://bkt/", "neds: [creds]", "if: " + "!" * 20000 + " true"])))
case("expr-100-bangs-template", "nests deeper", wf(step("list", ["at: disk://bkt/${{ " + "!" * 100 + "true }}"])))
case("expr-long-and-chain", "levels of operators", wf(step("list", ["at: disk://bkt/", "if: " + "&&".join(["true"] * 600)])))
case("expr-nested-calls", "nests deeper", wf(step("list", ["at: disk://bkt/${{ " + "format(" * 200 + "'x'" + ")" * 200 + " }}"])))
case("expr-unterminated", "unterminated expression", wf(step("list", ["at: disk://bkt/${{ vars.x"])))
case("expr-empty", "empty expression", wf(step("list", ["at: disk://bkt/${{ }}"])))
case("expr-unknown-function", "unknown function", wf(step("list", ["at: disk://bkt/${{ frobnicate(1) }}"])))
case("expr-bad-char", "unexpected character", wf(step("list", ["at: disk://bkt/${{ 1 ; 2 }}"])))
case("expr-single-equals", "use '=='", wf(step("list", ["at: disk://bkt/", "if: vars.a = 1"])))
case("expr-status-outside-if", "can only be used in `if:`", wf(step("list", ["at: disk://bkt/${{ success() }}"])))
case("expr-unknown-var", "unknown variable", wf(step("list", ["at: disk://bkt/${{ vars.nope }}"])))
case("expr-unknown-step-output", "unknown step", wf(step("list", ["at: disk://bkt/${{ steps.ghost.outputs.keys }}"])))
case("expr-long-identifier", "unknown variable", wf(step("list", ["at: disk://bkt/${{ vars." + "v" * 4000 + " }}"])))
case("expr-format-too-many-args", "format() takes", wf(step("list", ["at: disk://bkt/${{ format('{0}'" + ", 'a'" * 30 + ") }}"])))
case("expr-bad-number", "invalid number", wf(step("list", ["at: disk://bkt/${{ 1.2.3 }}"])))

# --- YAML structure -----------------------------------------------------------
case("yaml-deep-flow-seq", "nests deeper", HEAD + "vars:\n  x: " + "[" * 5000 + "]" * 5000 + "\nsteps: {}\n")
case("yaml-deep-flow-map", "nests deeper", HEAD + "vars:\n  x: " + "{a: " * 3000 + "1" + "}" * 3000 + "\nsteps: {}\n")
case("yaml-deep-block", "nests deeper", HEAD + "vars:\n" + "".join("  " * (i + 1) + "k:\n" for i in range(520)) + "  " * 521 + "v\n")
laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
for i in range(1, 10):
    laughs += f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 9) + "]\n"
case("yaml-billion-laughs", "expands to more than", HEAD + "x-laughs:\n" + "".join("  " + l for l in laughs.splitlines(True)) + "steps: {}\n")
merge = "base: &b0 {k0: 1}\n"
for i in range(1, 25):
    merge += f"m{i}: &b{i}\n  <<: [*b{i-1}, *b{i-1}]\n  k{i}: {i}\n"
case("yaml-merge-bomb", "", HEAD + "vars:\n" + "".join("  " + l for l in merge.splitlines(True)) + "steps: {}\n")
wide = "m0: &w0 {" + ", ".join(f"k{i}: {i}" for i in range(3000)) + "}\n"
case("yaml-merge-wide", "", HEAD + "vars:\n  " + wide + "  m1:\n    <<: [" + ", ".join(["*w0"] * 300) + "]\nsteps: {}\n")
case("yaml-tab-indent", "tab", HEAD + "steps:\n\ts:\n\t  action: list\n")
case("yaml-tab-mixed", "tab", HEAD + "steps:\n  s:\n  \taction: list\n")
case("yaml-tab-after-key", "", HEAD + "steps:\n  s:\n    action:\t\tlist\n    at: disk://bkt/\n")
case("yaml-duplicate-top", "duplicate key \"name\"", HEAD + "name: again\nsteps: {}\n")
case("yaml-duplicate-many", "duplicate key \"at\"", wf(step("list", ["at: disk://bkt/", "at: disk://bkt/", "recursive: true", "recursive: false"])))
case("yaml-duplicate-steps", "duplicate key \"s\"", wf(step("list", ["at: disk://bkt/"]) + step("list", ["at: disk://bkt/"])))
case("yaml-two-documents", "single YAML document", HEAD + "steps: {}\n---\nversion: 1\n")
case("yaml-unknown-alias", "unknown alias", HEAD + "vars:\n  a: *nowhere\nsteps: {}\n")
case("yaml-unclosed-flow", "", HEAD + "steps: {s: {action: list\n")
case("yaml-unclosed-quote", "", HEAD + "name2: \"abc\nsteps: {}\n")
case("yaml-bad-merge", "merge key", HEAD + "vars:\n  <<: 5\nsteps: {}\n")
case("yaml-nul-byte", "", HEAD.encode() + b"steps:\n  s\x00x:\n    action: list\n")
case("yaml-bad-utf8", "not UTF-8", HEAD.encode() + b"description: \xff\xfe\xc3\x28 broken\nsteps: {}\n")
case("yaml-bad-utf8-overlong", "not UTF-8", HEAD.encode() + b"description: \xc0\xaf\nsteps: {}\n")
case("yaml-lone-surrogate", "not UTF-8", HEAD.encode() + b"description: \xed\xa0\x80\nsteps: {}\n")
case("yaml-control-char", "", HEAD + "description: \"a\x07b\" \x07\nsteps: {}\n")
case("yaml-empty", "empty", "")
case("yaml-only-comments", "empty", "# nothing here\n# still nothing\n")
case("yaml-only-whitespace", "empty", "\n\n   \n")
case("yaml-scalar-root", "must be a mapping", "just a string\n")
case("yaml-sequence-root", "must be a mapping", "- version: 1\n")
case("yaml-null-root", "", "~\n")
case("yaml-directive-garbage", "", "%YAML 9.9\n---\nversion: 1\n")
case("yaml-anchor-on-key", "", HEAD + "&k steps: {}\n*k : 1\n")
case("yaml-complex-key", "keys must be strings", HEAD + "? [a, b]\n: 1\nsteps: {}\n")

# --- wrong types at every level -----------------------------------------------
case("type-name-list", "`name` must be", "version: 1\nname: [a]\nsteps: {}\n")
case("type-name-missing", "missing required key \"name\"", "version: 1\nsteps:\n" + step("list", ["at: disk://bkt/"]))
case("type-version-string", "unsupported version", "version: one\nname: x\nsteps: {}\n")
case("type-steps-list", "`steps` must be a mapping", HEAD + "steps: [a, b]\n")
case("type-steps-empty", "`steps` is empty", HEAD + "steps: {}\n")
case("type-step-scalar", "must be a mapping with an `action`", HEAD + "steps:\n  s: list\n")
case("type-action-list", "must be a string, one of", HEAD + "steps:\n  s: {action: [list]}\n")
case("type-needs-mapping", "`needs` must be", wf(step("list", ["at: disk://bkt/", "needs: {a: 1}"])))
case("type-needs-entry-list", "`needs` entries", wf(step("list", ["at: disk://bkt/", "needs: [[a]]"])))
case("type-vars-list", "`vars` must be a mapping", HEAD + "vars: [a]\nsteps: {}\n")
case("type-var-mapping", "must be a string, number or boolean", HEAD + "vars:\n  a: {b: c}\nsteps: {}\n")
case("type-storage-list", "`storage` must be a mapping", HEAD + "storage: [a]\nsteps: {}\n")
case("type-storage-scalar", "must be a mapping with at least `provider`", HEAD + "storage:\n  d: local\nsteps: {}\n")
case("type-storage-no-provider", "missing required key \"provider\"", HEAD + "storage:\n  d: {root: .}\nsteps: {}\n")
case("type-storage-setting-list", "must be a string, number or boolean", HEAD + "storage:\n  d: {provider: local, root: [a]}\nsteps: {}\n")
case("type-if-list", "`if` must be an expression", wf(step("list", ["at: disk://bkt/", "if: [a]"])))
case("type-retry-list", "`retry` must be", wf(step("list", ["at: disk://bkt/", "retry: [1]"])))
case("type-continue-on-error", "`continue-on-error` must be", wf(step("list", ["at: disk://bkt/", "continue-on-error: maybe"])))
case("type-recursive-string", "`recursive` must be true or false", wf(step("list", ["at: disk://bkt/", "recursive: yes-please"])))
case("type-metadata-list", "`metadata` must be a mapping", wf(step("upload", ["from: ./a", "to: disk://bkt/", "metadata: [a]"])))
case("type-exclude-mapping", "`exclude` must be a list", wf(step("upload", ["from: ./a", "to: disk://bkt/", "exclude: {a: 1}"])))
case("type-expect-list", "`expect` must be a mapping", wf(step("inspect", ["at: disk://bkt/x", "expect: [1]"])))
case("type-expect-exists", "`exists` must be true or false", wf(step("inspect", ["at: disk://bkt/x", "expect: {exists: perhaps}"])))
case("type-schedule-scalar", "`schedule` must be a list", wf(step("list", ["at: disk://bkt/"]), extra="schedule: daily\n"))
case("type-overlap", "`overlap` must be one of", wf(step("list", ["at: disk://bkt/"]), extra="overlap: sometimes\n"))
case("type-at-mapping", "must be a string", wf(step("list", ["at: {a: 1}"])))
case("type-key-null", "", HEAD + "steps:\n  ~: {action: list}\n")

# --- unknown keys and did-you-mean --------------------------------------------
case("unknown-top-level", "did you mean \"steps\"", HEAD + "stpes: {}\n")
case("unknown-acton", "did you mean \"action\"", wf("  s:\n    acton: list\n    att: disk://bkt/\n    recursve: true\n"))
case("unknown-action-name", "unknown action \"lsit\"", wf("  s:\n    action: lsit\n    at: disk://bkt/\n"))
case("unknown-key-with-action", "did you mean \"recursive\"", wf(step("list", ["at: disk://bkt/", "recursve: true"])))
case("unknown-long-implicit-key", "could not find expected ':'", wf(step("list", ["at: disk://bkt/", "k" * 100000 + ": 1"])))
case("unknown-long-key", "unknown key", wf(step("list", ["at: disk://bkt/", "k" * 1000 + ": 1"])))
case("unknown-expectation", "unknown expectation", wf(step("inspect", ["at: disk://bkt/x", "expect: {sha265: abc}"])))
case("unknown-storage-key", "unknown key \"endpont\"", HEAD + "storage:\n  s3: {provider: s3, endpont: \"https://x\"}\nsteps: {}\n")
case("unknown-provider", "unknown provider", HEAD + "storage:\n  x: {provider: ftp}\nsteps: {}\n")
case("unknown-storage-in-location", "unknown storage \"dsik\"", wf(step("list", ["at: dsik://bkt/"])))
case("unknown-choice", "`if-exists` must be one of", wf(step("create-bucket", ["bucket: disk://bkt", "if-exists: maybe"])))

# --- graph problems ------------------------------------------------------------
case("graph-cycle", "dependency cycle", wf(step("list", ["at: disk://bkt/", "needs: [b]"], "a") + step("list", ["at: disk://bkt/", "needs: [a]"], "b")))
case("graph-self-needs", "needs itself", wf(step("list", ["at: disk://bkt/", "needs: [s]"])))
case("graph-unknown-needs", "needs unknown step \"cred\"", wf(step("list", ["at: disk://bkt/", "needs: [cred]"])))
case("graph-self-output", "refers to its own outputs", wf(step("list", ["at: disk://bkt/${{ steps.s.outputs.count }}"])))
chain = "".join(step("list", ["at: disk://bkt/", f"needs: [n{i+1}]"], f"n{i}") for i in range(3000))
chain += step("list", ["at: disk://bkt/", "needs: [n0]"], "n3000")
case("graph-long-cycle", "dependency cycle", wf(chain))
many = "".join(step("list", ["at: disk://bkt/", f"needs: [missing{i}]"], f"m{i}") for i in range(2000))
case("graph-many-unknown-needs", "needs unknown step", wf(many))
case("graph-credentials-unknown", "names unknown step", HEAD + "storage:\n  d: {provider: local, root: ., credentials: nope}\nsteps:\n" + step("list", ["at: d://bkt/"]))
case("graph-credentials-wrong-action", "not load-credentials", HEAD + "storage:\n  d: {provider: local, root: ., credentials: s}\nsteps:\n" + step("list", ["at: d://bkt/"]))

# --- schedules -----------------------------------------------------------------
for name, cron, expect in [
    ("cron-bad-field", "61 * * * *", "invalid cron expression"),
    ("cron-too-few", "* * *", "invalid cron expression"),
    ("cron-garbage", "every day", "invalid cron expression"),
    ("cron-huge-number", "99999999999999999999 * * * *", "invalid cron expression"),
    ("cron-huge-step", "*/99999999999999999999 * * * *", "invalid cron expression"),
]:
    case(name, expect, wf(step("list", ["at: disk://bkt/"]), extra=f"schedule:\n  - cron: \"{cron}\"\n"))
case("cron-missing", "missing required key \"cron\"", wf(step("list", ["at: disk://bkt/"]), extra="schedule:\n  - timezone: UTC\n"))
for name, zone in [("zone-unknown", "Mars/Olympus"), ("zone-garbage", "../../etc/passwd"), ("zone-long", "Z" * 5000)]:
    case(name, "", wf(step("list", ["at: disk://bkt/"]), extra=f"schedule:\n  - cron: \"0 2 * * *\"\n    timezone: \"{zone}\"\n"))
case("zone-list", "`timezone` must be", wf(step("list", ["at: disk://bkt/"]), extra="schedule:\n  - cron: \"0 2 * * *\"\n    timezone: [UTC]\n"))

# --- locations, endpoints, bucket names ------------------------------------------
case("location-data-as-remote", "data:// paths are local", wf(step("list", ["at: data://.my/x"])))
case("location-no-storage", "must be a storage location", wf(step("list", ["at: bucket/key"])))
case("location-expression-storage-delete", "storage name written out", wf(step("delete", ["at: ${{ vars.x }}/k"]), extra="vars:\n  x: disk://bkt\n"))
case("location-remote-as-local", "must be a local path", wf(step("upload", ["from: disk://bkt/x", "to: disk://bkt/"])))
case("location-empty-bucket", "names no bucket", wf(step("list", ["at: \"disk:///key\""])))
for name, endpoint, expect in [
    ("endpoint-no-scheme-colon", "htp//host", "http(s) URL"),
    ("endpoint-ftp", "ftp://host", "http(s) URL"),
    ("endpoint-no-host", "https://", "names no host"),
    ("endpoint-bad-port", "https://host:99999", "port"),
    ("endpoint-userinfo", "https://user:pw@host", "credentials"),
    ("endpoint-space", "https://ho st", "host"),
    ("endpoint-unclosed-ipv6", "https://[::1", "IPv6"),
]:
    case(name, expect, HEAD + f"storage:\n  s3: {{provider: s3, endpoint: \"{endpoint}\"}}\nsteps:\n" + step("list", ["at: s3://bkt/"]))
case("endpoint-b2-bad", "http(s) URL", HEAD + "storage:\n  bb: {provider: b2, credentials: creds, endpoint: \"api.backblazeb2.com\"}\nsteps:\n" + CREDS)
case("endpoint-mapping", "must be a string, number or boolean", HEAD + "storage:\n  s3: {provider: s3, endpoint: {a: 1}}\nsteps: {}\n")
case("b2-missing-credentials", "missing required key \"credentials\"", HEAD + "storage:\n  bb: {provider: b2}\nsteps:\n" + step("list", ["at: bb://my-bucket/"]))
for name, loc, expect in [
    ("bucket-s3-uppercase", "s3://MyBucket/x", "invalid bucket name \"MyBucket\""),
    ("bucket-s3-short", "s3://ab/x", "invalid bucket name"),
    ("bucket-s3-long", "s3://" + "a" * 64 + "/x", "invalid bucket name"),
    ("bucket-s3-ip", "s3://192.168.1.10/x", "IP address"),
    ("bucket-s3-dotdot", "s3://a..b/x", "'..'"),
    ("bucket-s3-underscore", "s3://my_bucket/x", "invalid bucket name"),
    ("bucket-s3-dash-end", "s3://bucket-/x", "start and end"),
    ("bucket-b2-short", "bb://abc/x", "6 to 50"),
    ("bucket-b2-prefix", "bb://b2-mybucket/x", "b2-"),
    ("bucket-b2-dot", "bb://my.bucket/x", "only letters, digits and '-'"),
    ("bucket-local-uppercase", "disk://Bucket/x", "invalid bucket name"),
    ("bucket-local-dotdot", "disk://a..b/x", "'..'"),
    ("bucket-local-unicode", "disk://bücket/x", "invalid bucket name"),
    ("bucket-huge", "disk://" + "b" * 100000 + "/x", "invalid bucket name"),
]:
    case(name, expect, wf(step("list", [f"at: \"{loc}\""])))
case("bucket-create-bad", "invalid bucket name", wf(step("create-bucket", ["bucket: s3://Bad_Name"])))

# --- checksums -------------------------------------------------------------------------
case("checksum-sha256-short", "64 hexadecimal digits", wf(step("inspect", ["at: disk://bkt/x", "expect: {sha256: abc123}"])))
case("checksum-sha256-nonhex", "64 hexadecimal digits", wf(step("inspect", ["at: disk://bkt/x", "expect: {sha256: " + "z" * 64 + "}"])))
case("checksum-md5-long", "32 hexadecimal digits", wf(step("inspect", ["at: disk://bkt/x", "expect: {md5: " + "a" * 40 + "}"])))
case("checksum-md5-number", "32 hexadecimal digits", wf(step("inspect", ["at: disk://bkt/x", "expect: {md5: 12345}"])))
case("checksum-md5-list", "32 hexadecimal digits", wf(step("inspect", ["at: disk://bkt/x", "expect: {md5: [a]}"])))

# --- sizes of the whole thing -------------------------------------------------------------
case("huge-many-steps", "needs unknown step", wf("".join(step("list", ["at: disk://bkt/"], f"st{i}") for i in range(5000)) + step("list", ["at: disk://bkt/", "needs: [st5000]"], "last")))
case("huge-many-vars", "unknown variable", HEAD + "vars:\n" + "".join(f"  v{i}: ${{{{ vars.v{i+1} }}}}\n" for i in range(5000)) + "steps: {}\n")
case("huge-long-string", "`steps` is empty", HEAD + "description: \"" + "x" * 200_000 + "\"\nsteps: {}\n")
case("huge-many-storages", "unknown storage \"nope\"", HEAD + "storage:\n" + "".join(f"  st{i}: {{provider: local, root: .}}\n" for i in range(5000)) + "steps:\n" + "".join(f"  s{i}: {{action: list, at: \"st{i}://bucket/\"}}\n" for i in range(5000)) + "  bad: {action: list, at: \"nope://bucket/\"}\n")
case("huge-many-storage-credentials", "names unknown step", HEAD + "storage:\n" + "".join(f"  st{i}: {{provider: local, root: ., credentials: c{i}}}\n" for i in range(3000)) + "steps:\n" + "".join(f"  k{i}: {{action: load-credentials, from: ./c.json}}\n" for i in range(3000)))
case("huge-many-diagnostics", "unknown key", wf(step("list", ["at: disk://bkt/"] + [f"bogus{i}: 1" for i in range(3000)])))


def main():
    for old in os.listdir(HERE):
        if old.endswith(".yaml") and not old.startswith("fuzz-"):
            os.remove(os.path.join(HERE, old))
    for name, (expect, data) in sorted(cases.items()):
        with open(os.path.join(HERE, name + ".yaml"), "wb") as f:
            f.write(b"# expect: " + expect.encode() + b"\n" + data)
    print(f"{len(cases)} cases written to {HERE}", file=sys.stderr)


if __name__ == "__main__":
    main()
