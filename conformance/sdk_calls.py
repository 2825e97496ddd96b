"""Drives every resource method of the official Python SDK (twelvelabs==0.3.2) against the fake.

Each call has an expectation:

- `ok`: it must succeed (and, where given, its result must pass a check);
- `expected error`: the fake must refuse it with this exception class and error `code`, as the
  real API documents;
- `SDK bug`: it fails inside the SDK for a reason listed in `SDK_BUGS`, whatever the server says.
  The run checks that the failure is exactly that one.

Anything else is the fake's fault and fails the run. Which SDK methods were called directly is
tracked; a public method of a resource or model that no call exercised fails the run too.
"""

from __future__ import annotations

import inspect
import io
import json
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

# One client for every plain request (a new one per request costs a TLS context each).
HTTP = httpx.Client(timeout=30)

import twelvelabs
from twelvelabs import TwelveLabs, exceptions, models, resources
from twelvelabs.resource import APIResource

# Known bugs of twelvelabs 0.3.2, each with how it shows.
SDK_BUGS = {
    "index-create-task": "models.Index.create_task passes `transcript_file=` to task.create, which "
    "forwards it to httpx: every call fails before a request is sent (APIConnectionError)",
    "index-query": "models.Index.query passes the query positionally to search.query(index_id, "
    "options, *, query=...): TypeError before any request",
    "video-generate-text": "models.Video.generate_text passes the builtin `type` as the prompt and "
    "`prompt=` again: TypeError before any request",
    "combined-next-page": "CombinedSearchResult.__next__ calls Search.combined_by_page_token, which "
    "0.3.2 does not have (removed with the /search/combined page path): AttributeError",
    "embed-create-bulk": "EmbedTask.create_bulk passes `scopes=` to create, which forwards it to "
    "httpx; the error is swallowed and the result is an empty list",
    "classify-class-params": "classify.videos/index are typed List[ClassifyClassParams] but "
    "ClassifyClassParams is a plain class httpx cannot serialize to JSON: APIConnectionError "
    "before any request (dicts work)",
    "video-list-metadata": "index.video.list(metadata={...}) sends the dict's Python repr as one "
    "`metadata=` query value instead of one query key per field, so the filter matches nothing",
}


# Public methods the SDK itself calls, never meant for users: they count when called inside.
INTERNAL = {"models.GenerateOpenEndedTextStreamResult.add_text"}


@dataclass
class Outcome:
    name: str
    kind: str  # ok | expected | sdk-bug | FAKE
    detail: str = ""


@dataclass
class Run:
    base: str
    key: str
    checker: Any
    outcomes: list[Outcome] = field(default_factory=list)
    requests: int = 0
    called: set = field(default_factory=set)
    depth: threading.local = field(default_factory=threading.local)

    # ------------------------------------------------------------------ plumbing
    def control(self, path: str, body: dict) -> dict:
        r = HTTP.request("POST" if path != "data" else "PUT", f"{self.base}/_fake/{path}",
                          json=body, headers={"x-api-key": self.key})
        r.raise_for_status()
        return r.json()

    def advance(self, seconds: float) -> None:
        self.control("advance", {"seconds": seconds})

    def raw(self, method: str, path: str, **kw) -> httpx.Response:
        r = HTTP.request(method, f"{self.base}/v1.2{path}", headers={"x-api-key": self.key}, **kw)
        self.checker.check(method, f"/v1.2{path}", r.status_code, dict(r.headers), r.content,
                           "sdk-setup")
        return r

    def hook(self, response: httpx.Response) -> None:
        response.read()
        self.requests += 1
        req = response.request
        self.checker.check(req.method, req.url.path, response.status_code, dict(response.headers),
                           response.content, "python-sdk")

    def client(self, key: str | None = None) -> TwelveLabs:
        c = TwelveLabs(api_key=key or self.key)
        c._client.event_hooks["response"] = [self.hook]
        return c

    def track(self) -> None:
        """Records the SDK methods called directly (not from inside another SDK method)."""
        classes = [resources.Engine, resources.Index, resources.Video, resources.Task,
                   twelvelabs.resources.task.TaskTransfer, resources.Search, resources.Classify,
                   resources.Generate, resources.Embed, resources.EmbedTask,
                   models.Index, models.Task, models.Video, models.EmbeddingsTask,
                   models.IndexListWithPagination, models.TaskListWithPagination,
                   models.VideoListWithPagination, models.EmbeddingsTaskListWithPagination,
                   models.SearchResult, models.CombinedSearchResult, models.ClassifyPageResult,
                   models.GenerateOpenEndedTextStreamResult]
        self.all_methods = set()
        run = self
        for cls in classes:
            for name, fn in list(vars(cls).items()):
                public = not name.startswith("_") or name in ("__next__", "__iter__")
                if not public or not inspect.isfunction(fn) or name.startswith("model_"):
                    continue  # private, or generated by pydantic
                if name == "__iter__" and cls is not models.GenerateOpenEndedTextStreamResult:
                    continue  # the pagination models return self
                qual = f"{cls.__module__.split('.')[-2]}.{cls.__name__}.{name}"
                self.all_methods.add(qual)

                def wrap(fn=fn, qual=qual):
                    def wrapped(*a, **k):
                        d = getattr(run.depth, "n", 0)
                        if d == 0 or qual in INTERNAL:
                            run.called.add(qual)
                        run.depth.n = d + 1
                        try:
                            if inspect.isgeneratorfunction(fn):
                                return iter(list(fn(*a, **k)))
                            return fn(*a, **k)
                        finally:
                            run.depth.n = d
                    return wrapped

                setattr(cls, name, wrap())
        APIResource._sleep = lambda _self, seconds: run.advance(seconds)

    # ------------------------------------------------------------------ expectations
    def ok(self, name: str, fn: Callable[[], Any], check: Callable[[Any], Any] | None = None):
        try:
            result = fn()
            if check is not None:
                problem = check(result)
                if problem:
                    self.outcomes.append(Outcome(name, "FAKE", f"unexpected result: {problem}"))
                    return result
            self.outcomes.append(Outcome(name, "ok"))
            return result
        except Exception as e:  # noqa: BLE001 - any failure is reported
            self.outcomes.append(Outcome(name, "FAKE", describe(e)))
            return None

    def error(self, name: str, fn: Callable[[], Any], exc: type, code: str):
        try:
            fn()
        except exc as e:
            got = getattr(e, "body", None)
            got_code = got.get("code") if isinstance(got, dict) else None
            if got_code == code:
                self.outcomes.append(Outcome(name, "expected", f"{exc.__name__} {code}"))
            else:
                self.outcomes.append(Outcome(name, "FAKE", f"{exc.__name__} with code {got_code!r}, "
                                                           f"wanted {code!r}: {e}"))
            return
        except Exception as e:  # noqa: BLE001
            self.outcomes.append(Outcome(name, "FAKE", f"wanted {exc.__name__} {code}: {describe(e)}"))
            return
        self.outcomes.append(Outcome(name, "FAKE", f"succeeded; wanted {exc.__name__} {code}"))

    def bug(self, name: str, bug: str, fn: Callable[[], Any],
            shows: Callable[[Any, Exception | None, int], bool]):
        before = self.requests
        try:
            result, error = fn(), None
        except Exception as e:  # noqa: BLE001
            result, error = None, e
        sent = self.requests - before
        if shows(result, error, sent):
            self.outcomes.append(Outcome(name, "sdk-bug", bug))
        else:
            what = describe(error) if error else f"returned {result!r}"[:200]
            self.outcomes.append(Outcome(name, "FAKE", f"known SDK bug {bug} did not show as "
                                                       f"documented ({what}; {sent} requests)"))


def describe(e: BaseException) -> str:
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {tb[-1].filename.split('site-packages/')[-1]}:{tb[-1].lineno}" if tb else ""
    return f"{type(e).__name__}: {e}"[:400] + where


def before_request(exc: type):
    """The failure shows as `exc` raised before any request reached the server."""
    def shows(_result, error, sent):
        return isinstance(error, exc) and sent == 0
    return shows


def sdk_version() -> str:
    from importlib.metadata import version
    return version("twelvelabs")


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def run(base: str, key: str, checker) -> Run:
    r = Run(base, key, checker)
    r.track()
    tl = r.client()
    bad_key = r.client("tlk_WRONG")

    video_bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(4096)
    image = io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(256))

    # ---------------------------------------------------------------- engines
    engines = r.ok("engine.list", lambda: tl.engine.list(),
                   lambda es: None if len(es) >= 2 and all(e.ready for e in es) else es)
    r.ok("engine.retrieve", lambda: tl.engine.retrieve("marengo2.6"),
         lambda e: None if "logo" in e.allowed_engine_options else e)
    r.error("engine.retrieve (unknown engine)", lambda: tl.engine.retrieve("marengo9"),
            exceptions.NotFoundError, "resource_not_exists")
    r.error("engine.list (wrong key)", lambda: bad_key.engine.list(),
            exceptions.AuthenticationError, "api_key_invalid")
    del engines

    # ---------------------------------------------------------------- indexes
    both = [{"name": "marengo2.6", "options": ["visual", "conversation", "text_in_video", "logo"]},
            {"name": "pegasus1", "options": ["visual", "conversation"]}]
    index = r.ok("index.create", lambda: tl.index.create("Content Creator Videos", both,
                                                          addons=["thumbnail"]),
                 lambda i: None if i.video_count == 0 and is_int(i.video_count) else i)
    marengo_only = r.ok("index.create (no addons, one engine)", lambda: tl.index.create(
        "Marengo only", [{"name": "marengo2.6", "options": ["visual"]}]))
    r.error("index.create (duplicate name)", lambda: tl.index.create("Content Creator Videos", both),
            exceptions.BadRequestError, "index_name_already_exists")
    r.error("index.create (unknown engine)", lambda: tl.index.create(
        "x", [{"name": "marengo9", "options": ["visual"]}]),
            exceptions.BadRequestError, "parameter_invalid")
    r.error("index.create (option the engine lacks)", lambda: tl.index.create(
        "y", [{"name": "pegasus1", "options": ["text_in_video"]}]),
            exceptions.BadRequestError, "parameter_invalid")
    r.ok("index.retrieve", lambda: tl.index.retrieve(index.id),
         lambda i: None if i.name == "Content Creator Videos" else i)
    r.error("index.retrieve (unknown id)", lambda: tl.index.retrieve("000000000000000000000000"),
            exceptions.NotFoundError, "resource_not_exists")
    r.ok("index.list", lambda: tl.index.list(), lambda l: None if len(l) == 2 else l)
    r.ok("index.list (engine_options, repeated keys)",
         lambda: tl.index.list(engine_options=["visual", "logo"]),
         lambda l: None if [i.name for i in l] == ["Content Creator Videos"] else [i.name for i in l])
    r.ok("index.list (engine_family, created_at range)",
         lambda: tl.index.list(engine_family="pegasus", created_at={"gte": "2000-01-01T00:00:00Z"}),
         lambda l: None if len(l) == 1 else l)
    pages = r.ok("index.list_pagination", lambda: tl.index.list_pagination(page_limit=1))
    if pages is not None:
        r.ok("IndexListWithPagination.__next__", lambda: next(pages),
             lambda p: None if len(p) == 1 else p)
    r.ok("index.update", lambda: tl.index.update(marengo_only.id, "Marengo only (renamed)"))
    r.ok("Index.retrieve", lambda: index.retrieve())
    r.ok("Index.update", lambda: marengo_only.update("Marengo only (again)"))

    # ---------------------------------------------------------------- tasks
    t1 = r.ok("task.create (file)", lambda: tl.task.create(index.id, file=io.BytesIO(video_bytes)),
              lambda t: None if t.status == "validating" else t.status)
    t2 = r.ok("task.create (url, as a file part)", lambda: tl.task.create(
        index.id, url="https://example.com/videos/trailer.mp4", disable_video_stream=True))
    r.ok("task.create (transcription)", lambda: tl.task.create(
        marengo_only.id, file=io.BytesIO(video_bytes), transcription_file=io.BytesIO(b"WEBVTT\n"),
        language="en"))
    r.ok("task.create_bulk", lambda: tl.task.create_bulk(
        marengo_only.id, urls=["https://example.com/a.mp4", "https://example.com/b.mp4"]),
         lambda ts: None if len(ts) == 2 else ts)
    r.ok("task.external_provider", lambda: tl.task.external_provider(
        index.id, "https://www.youtube.com/watch?v=73_1biulkYk"))
    r.ok("Index.task_external_provider", lambda: index.task_external_provider(
        "https://youtu.be/73_1biulkYk"))
    r.bug("Index.create_task", "index-create-task",
          lambda: index.create_task(file=io.BytesIO(video_bytes)),
          before_request(exceptions.APIConnectionError))
    r.advance(50)  # halfway: indexing
    r.error("task.delete (while indexing)", lambda: tl.task.delete(t1.id),
            exceptions.BadRequestError, "task_cannot_be_deleted")
    r.ok("task.retrieve (indexing, with process)", lambda: tl.task.retrieve(t1.id),
         lambda t: None if t.status == "indexing" and t.process is not None else t)
    r.ok("Task.retrieve", lambda: t1.retrieve())
    r.ok("Task.wait_for_done", lambda: t1.wait_for_done(sleep_interval=10),
         lambda t: None if t.status == "ready" else t.status)
    ready = tl.task.retrieve(t1.id)
    if ready.hls is None or ready.video_id is None:
        r.outcomes.append(Outcome("task ready has hls and video_id", "FAKE", repr(ready)))
    r.ok("task.list", lambda: tl.task.list(index_id=index.id), lambda l: None if len(l) == 4 else l)
    r.ok("task.list (filters)", lambda: tl.task.list(
        index_id=index.id, duration=159, width=1280, height=720,
        created_at={"gte": "2000-01-01T00:00:00Z"}, sort_option="asc"),
         lambda l: None if len(l) == 4 else l)
    tpages = r.ok("task.list_pagination", lambda: tl.task.list_pagination(page_limit=2))
    if tpages is not None:
        r.ok("TaskListWithPagination.__next__", lambda: next(tpages))
    r.ok("task.status", lambda: tl.task.status(index.id),
         lambda s: None if s.ready == 4 and s.total_result == 4 else s)
    r.ok("Index.task_status", lambda: index.task_status())
    r.ok("task.transfer", lambda: tl.task.transfer(io.BytesIO(json.dumps(
        [{"index_id": index.id, "language": "en", "object": "s3://bucket/a.mp4"}]).encode())))
    r.ok("task.transfers.import_videos", lambda: tl.task.transfers.import_videos(
        "my-s3", index.id, user_metadata={"source": "s3"}, incremental_import=True))
    r.ok("task.transfers.import_status", lambda: tl.task.transfers.import_status("my-s3", index.id))
    r.ok("task.transfers.import_logs", lambda: tl.task.transfers.import_logs("my-s3"),
         lambda logs: None if len(logs) == 1 and logs[0].index_id == index.id else logs)
    doomed = tl.task.create(marengo_only.id, url="https://example.com/c.mp4")
    r.ok("task.delete", lambda: tl.task.delete(doomed.id))
    doomed = tl.task.create(marengo_only.id, url="https://example.com/d.mp4")
    r.ok("Task.delete", lambda: doomed.delete())

    # ---------------------------------------------------------------- videos
    vid = ready.video_id
    yt = next(t for t in tl.task.list(index_id=index.id) if "Deadpool" in t.metadata.get("filename", ""))
    r.ok("index.video.retrieve", lambda: tl.index.video.retrieve(index.id, vid),
         lambda v: None if v.hls is not None and is_int(v.metadata.size) else v)
    r.ok("index.video.retrieve (YouTube source)", lambda: tl.index.video.retrieve(index.id, yt.video_id),
         lambda v: None if v.source is not None and v.source.type == "youtube" else v)
    r.ok("index.video.retrieve (embed)", lambda: tl.index.video.retrieve(index.id, vid, embed=True),
         lambda v: None if v.embedding and len(v.embedding.video_embedding.segments[0].embeddings_float) == 1024 else v)
    r.error("index.video.retrieve (unknown video)", lambda: tl.index.video.retrieve(
        index.id, "000000000000000000000000"), exceptions.NotFoundError, "resource_not_exists")
    r.ok("index.video.list", lambda: tl.index.video.list(index.id), lambda l: None if len(l) == 4 else l)
    r.ok("index.video.list (ranges)", lambda: tl.index.video.list(
        index.id, duration={"gte": 100}, size={"lte": 10**9}, fps=24, width={"gte": 1280},
        height=720, indexed_at={"gte": "2000-01-01T00:00:00Z"}),
         lambda l: None if len(l) == 4 else l)
    vpages = r.ok("index.video.list_pagination", lambda: tl.index.video.list_pagination(index.id, page_limit=3))
    if vpages is not None:
        r.ok("VideoListWithPagination.__next__", lambda: next(vpages), lambda p: None if len(p) == 1 else p)
    r.ok("index.video.update", lambda: tl.index.video.update(
        index.id, vid, title="Trailer", metadata={"category": "trailer", "views": 1000, "hd": True}))
    r.ok("index.video.list (custom metadata as a query key)", lambda: r.raw(
        "GET", f"/indexes/{index.id}/videos", params={"category": "trailer"}).json()["data"],
         lambda l: None if len(l) == 1 else l)
    r.bug("index.video.list (metadata filter)", "video-list-metadata",
          lambda: tl.index.video.list(index.id, metadata={"category": "trailer"}),
          lambda result, error, _sent: error is None and len(result) == 0)
    r.ok("index.video.transcription", lambda: tl.index.video.transcription(index.id, vid, start=0, end=60),
         lambda l: None if len(l) >= 1 else l)
    r.ok("index.video.text_in_video", lambda: tl.index.video.text_in_video(index.id, vid))
    r.ok("index.video.logo", lambda: tl.index.video.logo(index.id, vid))
    r.ok("index.video.thumbnail", lambda: tl.index.video.thumbnail(index.id, vid, time=10),
         lambda u: None if u.startswith("https://") else u)
    r.ok("Index.list_video", lambda: index.list_video(), lambda l: None if len(l) == 4 else l)
    ivpages = r.ok("Index.list_video_pagination", lambda: index.list_video_pagination(page_limit=2))
    del ivpages
    video = tl.index.video.retrieve(index.id, vid)
    r.ok("Video.update", lambda: video.update(metadata={"reviewed": False}))
    r.ok("Video.transcription", lambda: video.transcription())
    r.ok("Video.text_in_video", lambda: video.text_in_video())
    r.ok("Video.logo", lambda: video.logo())
    r.ok("Video.thumbnail", lambda: video.thumbnail())
    r.ok("Video.generate_gist", lambda: video.generate_gist(["title", "topic", "hashtag"]),
         lambda g: None if g.title and g.topics and g.hashtags else g)
    r.ok("Video.generate_summarize", lambda: video.generate_summarize("summary"))
    r.bug("Video.generate_text", "video-generate-text", lambda: video.generate_text("Describe it."),
          before_request(TypeError))

    # ---------------------------------------------------------------- search
    r.ok("search.query (query_text, multipart search-v2)", lambda: tl.search.query(
        index.id, ["visual", "conversation"], query_text="guy with red mask", group_by="clip",
        threshold="low", operator="or", conversation_option="semantic", page_limit=2,
        sort_option="score", adjust_confidence_level=0.5),
         lambda s: None if len(s.data) == 2 and s.page_info.next_page_token else s)
    first = tl.search.query(index.id, ["visual"], query_text="red mask", page_limit=1)
    r.ok("SearchResult.__next__ (GET /search-v2/{token})", lambda: next(first),
         lambda p: None if len(p) == 1 else p)
    r.ok("search.by_page_token", lambda: tl.search.by_page_token(first.page_info.next_page_token))
    r.ok("search.query (filter, a JSON string part)", lambda: tl.search.query(
        index.id, ["visual"], query_text="red mask", filter={"id": [vid]}),
         lambda s: None if {c.video_id for c in s.data} == {vid} else s)
    r.ok("search.query (filter on a missing id finds nothing)", lambda: tl.search.query(
        index.id, ["visual"], query_text="red mask", filter={"id": ["000000000000000000000000"]}),
         lambda s: None if len(s.data) == 0 and s.page_info.page_expired_at else s)
    r.ok("search.query (group_by video, clip_count)", lambda: tl.search.query(
        index.id, ["visual"], query_text="red mask", group_by="video", sort_option="clip_count"),
         lambda s: None if s.data and s.data[0].clips else s)
    r.ok("search.query (image url)", lambda: tl.search.query(
        index.id, ["visual"], query_media_type="image", query_media_url="https://example.com/i.png"))
    r.ok("search.query (image file)", lambda: tl.search.query(
        index.id, ["visual"], query_media_type="image", query_media_file=image))
    r.ok("search.query (deprecated JSON query)", lambda: tl.search.query(
        index.id, ["visual"], query="A woman wearing makeup", filter={"duration": {"gte": 60}}),
         lambda s: None if s.data else s)
    r.ok("search.query (threshold none)", lambda: tl.search.query(
        index.id, ["conversation"], query_text="outfit style", threshold="none",
        conversation_option="exact_match"))
    r.error("search.query (option the index lacks)", lambda: tl.search.query(
        marengo_only.id, ["logo"], query_text="Subway"),
            exceptions.BadRequestError, "search_option_not_supported")
    combined = r.ok("search.combined_query", lambda: tl.search.combined_query(
        index.id, {"$or": [{"text": "red mask", "search_options": ["visual"]},
                           {"text": "jewelry"}]}, ["visual", "conversation"], page_limit=1,
        threshold="low", conversation_option="semantic"),
                    lambda s: None if s.page_info.next_page_token else s)
    if combined is not None:
        r.bug("CombinedSearchResult.__next__", "combined-next-page", lambda: next(combined),
              lambda _res, error, _sent: isinstance(error, AttributeError)
              and "combined_by_page_token" in str(error))
    r.bug("Index.query", "index-query", lambda: index.query("red mask", ["visual"]),
          before_request(TypeError))
    expiring = tl.search.query(index.id, ["visual"], query_text="red mask", page_limit=1)
    r.advance(2 * 3600)
    r.error("search.by_page_token (expired)", lambda: tl.search.by_page_token(
        expiring.page_info.next_page_token), exceptions.BadRequestError, "search_page_token_expired")

    # ---------------------------------------------------------------- classify
    classes = [{"name": "FashionTok", "prompts": ["Clothing", "Outfit", "Accessories", "Jewelry"]},
               {"name": "CookTok", "prompts": ["Cooking", "Recipes"]}]
    r.ok("classify.index", lambda: tl.classify.index(
        index.id, ["visual", "conversation"], classes, include_clips=True, show_detailed_score=True,
        threshold={"min_video_score": 50, "min_duration_ratio": 0.1}, page_limit=1),
         lambda c: None if c.data and c.page_info.next_page_token else c)
    cls = tl.classify.index(index.id, ["visual"], classes, threshold={"min_duration_ratio": 0.1},
                            page_limit=1)
    r.ok("ClassifyPageResult.__next__", lambda: next(cls))
    cls2 = tl.classify.index(index.id, ["visual"], classes, threshold={"min_duration_ratio": 0.1},
                             page_limit=1)
    r.ok("classify.by_page_token", lambda: tl.classify.by_page_token(cls2.page_info.next_page_token))
    r.ok("classify.videos", lambda: tl.classify.videos(
        [vid], ["visual"], classes, threshold={"min_duration_ratio": 0.1}))
    r.ok("classify.videos (nothing matches: empty page)", lambda: tl.classify.videos(
        [vid], ["visual"], [{"name": "Nothing", "prompts": ["submarine"]}]),
         lambda c: None if (c.page_info.limit_per_page, c.page_info.page_expired_at) == (0, "") else c)
    r.bug("classify.videos (ClassifyClassParams)", "classify-class-params",
          lambda: tl.classify.videos([vid], ["visual"], [models.ClassifyClassParams("A", ["a"])]),
          before_request(exceptions.APIConnectionError))
    r.error("classify.index (logo is not a classify option)", lambda: tl.classify.index(
        index.id, ["logo"], classes), exceptions.BadRequestError, "parameter_invalid")

    # ---------------------------------------------------------------- generate
    r.ok("generate.gist", lambda: tl.generate.gist(vid, ["title", "topic", "hashtag"]))
    r.ok("generate.summarize (summary)", lambda: tl.generate.summarize(vid, "summary", prompt="Short."))
    r.ok("generate.summarize (chapter)", lambda: tl.generate.summarize(vid, "chapter", temperature=0.3),
         lambda s: None if s.chapters else s)
    r.ok("generate.summarize (highlight)", lambda: tl.generate.summarize(vid, "highlight"),
         lambda s: None if s.highlights else s)
    r.ok("generate.text", lambda: tl.generate.text(vid, "Write an Instagram post.", temperature=0.2),
         lambda t: None if t.data else t)
    stream = r.ok("generate.text_stream", lambda: tl.generate.text_stream(vid, "Write a rap song."))
    if stream is not None:
        r.ok("GenerateOpenEndedTextStreamResult.__iter__", lambda: list(stream.__iter__()),
             lambda texts: None if texts and stream.id and stream.aggregated_text else texts)
    r.error("generate.gist (unknown video)", lambda: tl.generate.gist("6528b54a43e8c47e4eb47e80", ["title"]),
            exceptions.NotFoundError, "resource_not_exists")
    mvid = next(t.video_id for t in tl.task.list(index_id=marengo_only.id) if t.video_id)
    r.error("generate.summarize (index without Pegasus)", lambda: tl.generate.summarize(mvid, "summary"),
            exceptions.BadRequestError, "index_not_supported_for_generate")
    r.error("generate.summarize (unknown type)", lambda: tl.generate.summarize(vid, "poem"),
            exceptions.BadRequestError, "parameter_invalid")

    # ---------------------------------------------------------------- embed
    engine = "Marengo-retrieval-2.6"
    r.ok("embed.create (text, as a field and a file part)", lambda: tl.embed.create(
        engine, text="a man in a red mask", text_truncate="end"),
         lambda e: None if len(e.text_embedding.segments[0].embeddings_float) == 1024 else e)
    r.ok("embed.create (several modalities at once)", lambda: tl.embed.create(
        engine, text="red mask", image_url="https://example.com/i.png",
        audio_url="https://example.com/a.mp3", audio_start_offset_sec=2),
         lambda e: None if e.text_embedding and e.image_embedding and e.audio_embedding else e)
    r.ok("embed.create (image and audio files)", lambda: tl.embed.create(
        engine, image_file=io.BytesIO(b"\x89PNG" + bytes(64)), audio_file=io.BytesIO(b"ID3" + bytes(64))),
         lambda e: None if e.image_embedding.metadata.input_filename else e)
    r.error("embed.create (unknown engine)", lambda: tl.embed.create("marengo9", text="x"),
            exceptions.BadRequestError, "parameter_invalid")
    et = r.ok("embed.task.create (url, both scopes)", lambda: tl.embed.task.create(
        engine, video_url="https://example.com/v.mp4", video_clip_length=5,
        video_start_offset_sec=0, video_end_offset_sec=20, video_embedding_scopes=["clip", "video"]),
              lambda t: None if t.status == "processing" else t)
    et2 = r.ok("embed.task.create (file)", lambda: tl.embed.task.create(
        engine, video_file=io.BytesIO(video_bytes)))
    r.ok("embed.task.status", lambda: tl.embed.task.status(et.id),
         lambda s: None if s.status == "processing" else s)
    r.ok("EmbeddingsTask.update_status", lambda: et.update_status())
    r.ok("EmbeddingsTask.wait_for_done", lambda: et.wait_for_done(sleep_interval=30),
         lambda s: None if s == "ready" else s)
    r.ok("embed.task.retrieve (scopes honoured)", lambda: tl.embed.task.retrieve(et.id),
         lambda t: None if [s.embedding_scope for s in t.video_embedding.segments] == ["clip"] * 4 + ["video"] else
         [(s.embedding_scope, s.start_offset_sec, s.end_offset_sec) for s in t.video_embedding.segments])
    r.ok("EmbeddingsTask.retrieve", lambda: et2.retrieve())
    r.ok("embed.task.list", lambda: tl.embed.task.list(status="ready"),
         lambda l: None if len(l) == 2 else l)
    epages = r.ok("embed.task.list_pagination", lambda: tl.embed.task.list_pagination(page_limit=1))
    if epages is not None:
        r.ok("EmbeddingsTaskListWithPagination.__next__", lambda: next(epages))
    r.bug("embed.task.create_bulk", "embed-create-bulk", lambda: tl.embed.task.create_bulk(
        engine, [models.CreateEmbeddingsTaskVideoParams(url="https://example.com/v.mp4")]),
          lambda result, error, _sent: error is None and len(result) == 0)
    r.error("embed.task.status (unknown task)", lambda: tl.embed.task.status("000000000000000000000000"),
            exceptions.BadRequestError, "parameter_invalid")

    # ---------------------------------------------------------------- deletions last
    r.ok("index.video.delete", lambda: tl.index.video.delete(index.id, vid))
    other = tl.index.video.list(index.id)[0]
    r.ok("Video.delete", lambda: other.delete())
    r.ok("index.delete", lambda: tl.index.delete(marengo_only.id))
    r.ok("Index.delete", lambda: index.delete())
    r.error("index.retrieve (deleted)", lambda: tl.index.retrieve(index.id),
            exceptions.NotFoundError, "resource_not_exists")

    r.missing = sorted(r.all_methods - r.called)
    return r
