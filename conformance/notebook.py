"""Replays the tour notebook (the seed) against the fake: its own `requests` code, cell by cell.

The notebook text has no markers between a cell's code and its output, so each cell is split by
blank-line paragraphs: a paragraph is code while it compiles on its own and together with the code
before it (IPython magics translated first: `%env K=V` sets the variable, `!…` is skipped).
The first output paragraph ends the code; the recorded response of the cell is the Python literal
(`pprint`) or JSON text that follows, with the `Status code: N` printed before it. One recorded
literal is cut off mid-way in the notebook (cell 38); it is closed at its last complete value and
compared as far as it goes.

Each recorded response is compared with the fake's response to the same code: the HTTP status,
then field by field: same keys (no missing, no extra), same JSON types (integer vs number vs string
vs null, arrays, objects), same kind of string (24-hex id, timestamp with or without milliseconds,
URL, empty, text), and the same value for `code`, `message`, `status` and `type`. Ids the fake
generated replace the recorded ones in later requests (the notebook hard-codes them).

`time.sleep` advances the fake's clock instead of waiting, and the notebook's video gets the
fake data of the trailer it really is (the recorded searches and classifications found nothing in
it), so that the fake answers the situation the notebook recorded.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import sys
import time
import types
from dataclasses import dataclass, field
from typing import Any

import requests

ID = re.compile(r"^[0-9a-f]{24}$")
TS_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")
TS_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
EXACT = {"code", "message", "status", "type"}

# What the notebook's video (the Deadpool & Wolverine trailer) shows, for the fake: none of the
# tour's queries or classes match it, as the recorded answers say.
TRAILER = {
    "visual": [
        {"start": 0, "end": 40, "text": "A superhero in a red suit fights beside a clawed mutant"},
        {"start": 40, "end": 120, "text": "Explosions and car chases in a desert"},
        {"start": 120, "end": 159, "text": "Two heroes stand in front of a studio logo"},
    ],
    "conversation": [
        {"start": 10, "end": 20, "text": "You are a vulgar mascot of violence"},
    ],
    "text_in_video": [{"start": 150, "end": 159, "text": "IN THEATERS JULY 26"}],
    "logo": [{"start": 140, "end": 142, "text": "Marvel Studios"}],
    "duration": 159,
}


@dataclass
class Cell:
    number: int
    code: str
    output: str


@dataclass
class Recorded:
    cell: int
    status: int | None
    body: Any
    truncated: bool


@dataclass
class Result:
    cells: int = 0
    requests: int = 0
    compared: int = 0
    fields: int = 0
    matched: int = 0
    mismatches: list[str] = field(default_factory=list)
    statuses: list[tuple[int, int, int]] = field(default_factory=list)
    partial: list[int] = field(default_factory=list)


def translate(line: str) -> str:
    s = line.strip()
    indent = line[: len(line) - len(line.lstrip())]
    if s.startswith("%env "):
        k, _, v = s[5:].partition("=")
        return f"{indent}os.environ[{k.strip()!r}] = {v.strip()!r}"
    if s.startswith("!") or s.startswith("%"):
        return f"{indent}pass"
    return line


def compiles(src: str) -> bool:
    try:
        compile(src, "<cell>", "exec")
        return True
    except SyntaxError:
        return False


def cells(text: str) -> list[Cell]:
    parts = re.split(r"^In \[(\d+)\]:\n", text, flags=re.M)
    out = []
    for number, block in zip(parts[1::2], parts[2::2]):
        paragraphs = re.split(r"\n\s*\n", block)
        code: list[str] = []
        i = 0
        for i, p in enumerate(paragraphs):
            lines = [translate(line) for line in p.splitlines()]
            src = "\n".join(lines)
            if compiles(src) and compiles("\n".join(code + lines)):
                code.extend(lines)
                code.append("")
            else:
                break
        else:
            i = len(paragraphs)
        out.append(Cell(int(number), "\n".join(code), "\n\n".join(paragraphs[i:])))
    return out


def close_truncated(text: str) -> str:
    """Closes a literal cut off mid-way, at its last complete value."""
    stack, quote, start = [], None, 0
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote, start = c, i
        elif c in "[{(":
            stack.append(c)
        elif c in "]})":
            stack.pop()
        i += 1
    if quote:
        text = text[:start]
    text = text.rstrip()
    while True:
        stripped = text.rstrip().rstrip(",").rstrip()
        if stripped.endswith(":"):
            stripped = re.sub(r"""(['"])(?:(?!\1).)*\1\s*:$""", "", stripped).rstrip()
        if stripped == text:
            break
        text = stripped
    closers = {"[": "]", "{": "}", "(": ")"}
    # Recount the open brackets of what is left.
    stack, quote = [], None
    for j, c in enumerate(text):
        if quote:
            if c == quote and text[j - 1] != "\\":
                quote = None
        elif c in "'\"":
            quote = c
        elif c in "[{(":
            stack.append(c)
        elif c in "]})":
            stack.pop()
    return text + "".join(closers[c] for c in reversed(stack))


def recorded(cell: Cell) -> Recorded | None:
    status = None
    m = re.search(r"Status code: (\d+)", cell.output)
    if m:
        status = int(m.group(1))
    lines = cell.output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("{"):
            literal = []
            for j in range(i, len(lines)):
                if not lines[j].strip():
                    break
                literal.append(lines[j])
                try:
                    return Recorded(cell.number, status, ast.literal_eval("\n".join(literal)), False)
                except (ValueError, SyntaxError):
                    continue
            return Recorded(cell.number, status,
                            ast.literal_eval(close_truncated("\n".join(literal))), True)
    return None


def kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    if v == "":
        return "string(empty)"
    if ID.match(v):
        return "string(id)"
    if TS_MS.match(v):
        return "string(timestamp with ms)"
    if TS_S.match(v):
        return "string(timestamp in s)"
    if v.startswith("https://") or v.startswith("http://"):
        return "string(url)"
    return "string"


class Replay:
    def __init__(self, base: str, key: str, checker, control):
        self.base, self.key, self.checker, self.control = base, key, checker, control
        self.ids: dict[str, str] = {}
        self.last: requests.Response | None = None
        self.result = Result()

    def swap(self, v: Any) -> Any:
        if isinstance(v, str):
            for old, new in self.ids.items():
                v = v.replace(old, new)
            return v
        if isinstance(v, list):
            return [self.swap(x) for x in v]
        if isinstance(v, dict):
            return {k: self.swap(x) for k, x in v.items()}
        return v

    def install(self):
        """Routes the notebook's requests and sleeps to the fake; returns the undo."""
        original, sleep = requests.sessions.Session.request, time.sleep
        replay = self

        def request(session, method, url, **kw):
            url = replay.swap(url)
            if "json" in kw:
                kw["json"] = replay.swap(kw["json"])
            r = original(session, method, url, **kw)
            replay.result.requests += 1
            replay.last = r
            path = "/" + url.split("://", 1)[1].split("/", 1)[1]
            replay.checker.check(method.upper(), path, r.status_code, dict(r.headers), r.content,
                                 "notebook")
            return r

        requests.sessions.Session.request = request
        time.sleep = lambda seconds: replay.control("advance", {"seconds": seconds})
        ipython = types.ModuleType("IPython")
        display = types.ModuleType("IPython.display")
        display.display = lambda *a, **k: None
        display.Image = lambda *a, **k: None
        ipython.display = display
        sys.modules["IPython"], sys.modules["IPython.display"] = ipython, display

        def undo():
            requests.sessions.Session.request = original
            time.sleep = sleep
        return undo

    def compare(self, rec: Any, act: Any, at: str, complete: bool) -> None:
        r = self.result
        r.fields += 1
        kr, ka = kind(rec), kind(act)
        if kr != ka:
            r.mismatches.append(f"{at}: recorded {kr} ({rec!r:.60}), fake {ka} ({act!r:.60})")
            return
        if kr == "string(id)" and rec != act:
            self.ids.setdefault(rec, act)
        last = at.rsplit(".", 1)[-1]
        if last in EXACT and not isinstance(rec, (dict, list)) and rec != act:
            r.mismatches.append(f"{at}: recorded {rec!r}, fake {act!r}")
            return
        if kr == "object":
            for k, v in rec.items():
                if k not in act:
                    r.fields += 1
                    r.mismatches.append(f"{at}.{k}: recorded, missing from the fake")
                else:
                    self.compare(v, act[k], f"{at}.{k}", complete)
            if complete:
                for k in act.keys() - rec.keys():
                    r.fields += 1
                    r.mismatches.append(f"{at}.{k}: sent by the fake, not in the recording")
        elif kr == "array":
            for i, v in enumerate(rec):
                if i < len(act):
                    self.compare(v, act[i], f"{at}[{i}]", complete)
                elif act:
                    # Items of a list share one shape: compare with the first.
                    self.compare(v, act[0], f"{at}[{i}~0]", complete)
                else:
                    r.fields += 1
                    r.mismatches.append(f"{at}[{i}]: recorded, the fake's list is empty")
        r.matched += 1

    def run(self, text: str) -> Result:
        """Runs every cell (their printed output is kept in `self.printed`)."""
        os.environ["API_URL"] = f"{self.base}/v1.2"
        os.environ["API_KEY"] = self.key
        undo = self.install()
        self.printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(self.printed):
                return self._cells(text)
        finally:
            undo()

    def _cells(self, text: str) -> Result:
        env: dict[str, Any] = {"__name__": "__notebook__"}
        video_data_set = False
        for cell in cells(text):
            self.result.cells += 1
            code = cell.code.replace("os.environ['API_KEY']", "_ignored['API_KEY']").replace(
                "os.environ['API_URL']", "_ignored['API_URL']")
            env["_ignored"] = {}
            env.setdefault("os", os)
            env["_last"] = None
            try:
                exec(compile(code, f"<cell {cell.number}>", "exec"), env)  # noqa: S102
            except Exception as e:  # noqa: BLE001 - a failing cell is a finding
                self.result.mismatches.append(f"cell {cell.number} raised {type(e).__name__}: {e}")
                continue
            rec = recorded(cell)
            if rec is None:
                continue
            act = self.last
            if act is None:
                self.result.mismatches.append(f"cell {cell.number}: recorded a response, none sent")
                continue
            self.result.compared += 1
            if rec.status is not None:
                self.result.statuses.append((cell.number, rec.status, act.status_code))
                if rec.status != act.status_code:
                    self.result.mismatches.append(
                        f"cell {cell.number}: status {rec.status} recorded, {act.status_code} from the fake")
            if rec.truncated:
                self.result.partial.append(cell.number)
            self.compare(rec.body, act.json(), f"cell {cell.number} $", not rec.truncated)
            video = env.get("VIDEO_ID")
            if not video_data_set and isinstance(video, str) and ID.match(video):
                self.control(f"videos/{video}/data", TRAILER, method="PUT")
                video_data_set = True
        return self.result


def self_test() -> list[str]:
    """The comparison must catch what it is for; returns the problems with it."""
    problems = []
    cases = [
        ("equal shapes", {"duration": 159, "at": "2024-06-09T12:04:14Z"}, {"duration": 42, "at": "2025-01-01T00:00:00Z"}, 0),
        ("159 recorded, 159.0 sent", {"duration": 159}, {"duration": 159.0}, 1),
        ("timestamp precision", {"at": "2024-06-09T12:04:14Z"}, {"at": "2024-06-09T12:04:14.123Z"}, 1),
        ("timestamp recorded, empty sent", {"page_expired_at": "2024-06-09T12:09:42Z"}, {"page_expired_at": ""}, 1),
        ("field missing", {"hls": {"status": "COMPLETE"}}, {}, 1),
        ("field added", {}, {"extra": 1}, 1),
        ("exact value differs", {"code": "resource_not_exists"}, {"code": "resource_not_exist"}, 1),
        ("null vs value", {"expires_at": None}, {"expires_at": "2024-09-06T18:13:05.563Z"}, 1),
        ("list items by shape", {"data": [{"a": 1}, {"a": 2}]}, {"data": [{"a": 3}]}, 0),
    ]
    for name, rec, act, want in cases:
        r = Replay("", "", None, None)
        r.compare(rec, act, "$", True)
        if len(r.result.mismatches) != want:
            problems.append(f"self-test '{name}': {len(r.result.mismatches)} mismatches, wanted {want}")
    text = "{'data': [{'a': 1}, {'b': ['x', 'y"
    try:
        if ast.literal_eval(close_truncated(text)) != {"data": [{"a": 1}, {"b": ["x"]}]}:
            problems.append(f"self-test truncated literal: {close_truncated(text)!r}")
    except (ValueError, SyntaxError) as e:
        problems.append(f"self-test truncated literal: {e}")
    return problems
