"""Validates HTTP responses against openapi.yaml, strictly.

Every response the conformance run sees (from the official SDK, from the notebook's own code and
from the status sweep) goes through `Checker.check`: the request's method and path pick the
operation, the status picks the response (exact code, then `5XX`-style ranges, then `default`),
the content type must be one the response declares (or the body must be empty when it declares
none), declared `X-Ratelimit-*` headers must be integers, and the JSON body must validate against
the schema, converted from OpenAPI 3.0 to JSON Schema with these strict rules:

- `integer` accepts only JSON integers (`159`), never `159.0`; `number` accepts both;
- objects are closed: a property the schema does not declare is an error, unless the schema sets
  `additionalProperties`;
- enums are closed, except `ErrorCode`, which the spec documents as an open list (both official
  SDKs read `code` as a plain string);
- `nullable: true` adds `null`.

An NDJSON body validates line by line. `coverage()` tells which (operation, status) pairs were
validated.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "patch")
OPEN_ENUMS = {"ErrorCode"}


def _strict_validator():
    def is_integer(_checker, instance):
        return isinstance(instance, int) and not isinstance(instance, bool)

    def is_number(_checker, instance):
        return isinstance(instance, (int, float)) and not isinstance(instance, bool)

    checker = jsonschema.Draft7Validator.TYPE_CHECKER.redefine_many(
        {"integer": is_integer, "number": is_number}
    )
    return jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=checker)


StrictValidator = _strict_validator()


def convert(schema: Any, name: str | None = None) -> Any:
    """OpenAPI 3.0 schema object -> JSON Schema (draft 7), strict as described above."""
    if isinstance(schema, list):
        return [convert(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return {"$ref": schema["$ref"].replace("#/components/schemas/", "#/definitions/")}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("description", "example", "examples", "default", "discriminator", "xml",
                   "externalDocs", "deprecated", "readOnly", "writeOnly", "nullable", "format"):
            continue
        if key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {k: convert(v) for k, v in value.items()}
        elif key in ("items", "not", "additionalProperties") and isinstance(value, dict):
            out[key] = convert(value)
        elif key in ("anyOf", "oneOf", "allOf"):
            out[key] = [convert(v) for v in value]
        else:
            out[key] = value
    if name in OPEN_ENUMS:
        out.pop("enum", None)
    if out.get("type") == "object" or "properties" in out:
        out.setdefault("additionalProperties", False)
    if schema.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]
    return out


_LOADED: dict[str, Any] = {}


def load(spec_path: str) -> Any:
    """openapi.yaml, parsed once (with libyaml when PyYAML has it)."""
    if spec_path not in _LOADED:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with open(spec_path, encoding="utf-8") as f:
            _LOADED[spec_path] = yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader
    return _LOADED[spec_path]


class Checker:
    def __init__(self, spec_path: str):
        self.spec = load(spec_path)
        comps = self.spec["components"]
        self.definitions = {n: convert(s, n) for n, s in comps["schemas"].items()}
        self.ops: list[tuple[str, str, re.Pattern, int, dict]] = []
        for path, item in self.spec["paths"].items():
            literal = sum(1 for seg in path.split("/") if seg and not seg.startswith("{"))
            pattern = re.compile(
                "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?$"
            )
            for method in METHODS:
                if method in item:
                    self.ops.append((method.upper(), path, pattern, literal, item[method]))
        self.validated: dict[str, set[str]] = defaultdict(set)
        self.checked = 0
        self.failures: list[str] = []

    def op_ids(self) -> list[str]:
        return sorted(op["operationId"] for _, _, _, _, op in self.ops)

    def operation(self, method: str, path: str) -> tuple[str, dict] | None:
        """The operation of a request path (after the `/v1.2` prefix): literal segments win."""
        best = None
        for m, template, pattern, literal, op in self.ops:
            if m == method and pattern.match(path):
                if best is None or literal > best[0]:
                    best = (literal, template, op)
        return (best[1], best[2]) if best else None

    def _resolve(self, obj: dict) -> dict:
        while "$ref" in obj:
            ref = obj["$ref"]
            node: Any = self.spec
            for part in ref.lstrip("#/").split("/"):
                node = node[part]
            obj = node
        return obj

    def response_of(self, op: dict, status: int) -> tuple[str, dict] | None:
        responses = op.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                return key, self._resolve(responses[key])
        return None

    def _validate(self, schema: dict, value: Any) -> list[str]:
        doc = dict(convert(schema))
        doc["definitions"] = self.definitions
        v = StrictValidator(doc)
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '$'}: {e.message}"
            for e in sorted(v.iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
        ]

    def check(self, method: str, url_path: str, status: int, headers: dict, body: bytes,
              origin: str) -> list[str]:
        """Checks one response; returns (and records) the problems found."""
        path = url_path.split("?", 1)[0]
        if path.startswith("/v1.2"):
            path = path[len("/v1.2"):] or "/"
        else:
            return []  # not an API call (e.g. the fake's /_fake control routes)
        at = f"{method} {path} -> {status} [{origin}]"
        problems: list[str] = []
        found = self.operation(method, path)
        if found is None:
            problems.append(f"{at}: no operation in openapi.yaml")
            self.failures.extend(problems)
            return problems
        template, op = found
        op_id = op["operationId"]
        resp = self.response_of(op, status)
        if resp is None:
            problems.append(f"{at}: status {status} is not declared for {op_id}")
            self.failures.extend(problems)
            return problems
        key, response = resp
        lower = {k.lower(): v for k, v in headers.items()}
        for name, h in (response.get("headers") or {}).items():
            h = self._resolve(h)
            value = lower.get(name.lower())
            if value is None:
                problems.append(f"{at}: declared header {name} is missing")
                continue
            htype = (h.get("schema") or {}).get("type")
            if htype == "integer" and not re.fullmatch(r"-?\d+", value):
                problems.append(f"{at}: header {name}={value!r} is not an integer")
        content = response.get("content") or {}
        ctype = lower.get("content-type", "").split(";")[0].strip()
        if not content:
            if body.strip():
                problems.append(f"{at}: {op_id} {key} declares no body, got {body[:80]!r}")
        elif ctype not in content:
            problems.append(f"{at}: content type {ctype!r} not declared ({sorted(content)})")
        else:
            schema = content[ctype].get("schema", {})
            try:
                if ctype == "application/x-ndjson":
                    docs = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
                    if not docs:
                        problems.append(f"{at}: empty NDJSON stream")
                else:
                    docs = [json.loads(body)]
            except (ValueError, UnicodeDecodeError) as e:
                problems.append(f"{at}: body is not {ctype}: {e}")
                docs = []
            for i, doc in enumerate(docs):
                for p in self._validate(schema, doc):
                    line = f" line {i + 1}" if ctype == "application/x-ndjson" else ""
                    problems.append(f"{at}{line}: {p}")
        self.checked += 1
        if not problems:
            self.validated[op_id].add(key)
        self.failures.extend(problems)
        return problems

    def coverage(self) -> dict[str, set[str]]:
        return {op: set(self.validated.get(op, set())) for op in self.op_ids()}


def self_test(spec_path: str) -> list[str]:
    """The check must catch what it is for: each sample here is wrong in one way and must fail;
    the control sample must pass. Returns the problems with the checker itself."""
    c = Checker(spec_path)
    rl = {"X-Ratelimit-Limit": "3000", "X-Ratelimit-Remaining": "2999", "X-Ratelimit-Used": "1",
          "X-Ratelimit-Reset": "1700000000", "content-type": "application/json"}
    good = (b'{"_id":"666599d4e6fb7df29de0f89c","index_name":"a","video_count":1,'
            b'"total_duration":159,"created_at":"2024-06-09T12:04:14.069Z","expires_at":null}')
    samples = [
        ("control sample", "GET", "/v1.2/indexes/x", 200, {"content-type": "application/json"}, good, True),
        ("integer sent as 1.0", "GET", "/v1.2/indexes/x", 200, {"content-type": "application/json"},
         good.replace(b'"video_count":1', b'"video_count":1.0'), False),
        ("undeclared field", "GET", "/v1.2/indexes/x", 200, {"content-type": "application/json"},
         good.replace(b'"index_name"', b'"colour":"red","index_name"'), False),
        ("string where a number goes", "GET", "/v1.2/indexes/x", 200, {"content-type": "application/json"},
         good.replace(b'"total_duration":159', b'"total_duration":"159"'), False),
        ("undeclared status", "GET", "/v1.2/indexes/x", 418, {"content-type": "application/json"},
         b'{"code":"parameter_invalid","message":"x"}', False),
        ("unknown path", "GET", "/v1.2/nowhere", 200, {"content-type": "application/json"}, b"{}", False),
        ("closed enum", "GET", "/v1.2/tasks/x", 200, {"content-type": "application/json"},
         b'{"_id":"a","status":"archived"}', False),
        ("missing rate-limit header", "POST", "/v1.2/search", 200, {"content-type": "application/json"},
         b'{"data":[]}', False),
        ("rate-limit header not an integer", "POST", "/v1.2/search", 200,
         dict(rl, **{"X-Ratelimit-Reset": "soon"}), b'{"data":[]}', False),
        ("body where none is declared", "DELETE", "/v1.2/indexes/x", 200, {}, b'{"ok":true}', False),
        ("bad NDJSON line", "POST", "/v1.2/generate", 200, dict(rl, **{"content-type": "application/x-ndjson"}),
         b'{"event_type":"stream_start"}\n{"text":"no event type"}\n', False),
        ("literal path wins over a template", "GET", "/v1.2/tasks/status", 200,
         {"content-type": "application/json"}, b'{"index_id":"a","ready":1,"total_result":1}', True),
    ]
    problems = []
    for name, method, path, status, headers, body, should_pass in samples:
        passed = not c.check(method, path, status, headers, body, "self-test")
        if passed != should_pass:
            problems.append(f"self-test '{name}': {'passed' if passed else 'failed'}, "
                            f"should have {'passed' if should_pass else 'failed'}")
    return problems
