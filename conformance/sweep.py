"""Every operation of openapi.yaml, and every status the fake answers it with, once each.

The official SDK and the notebook do not reach every operation (no SDK calls `GET
/search/{page_token}` or the combined-search page paths) nor every status. This sweep sends, for
each operation: a valid request (its success status), a wrong key (401), injected faults (429 and
500 through `/_fake/faults`), and the natural 400 and 404 where the operation has them. Every
answer goes through the same strict spec check. `EXPECTED` is the list the coverage is checked
against: an operation or status missing from it, or not validated, fails the run.
"""

from __future__ import annotations

import json
from typing import Callable

import httpx

# One client for every plain request (a new one per request costs a TLS context each).
HTTP = httpx.Client(timeout=30)

NOID = "000000000000000000000000"


def sweep(base: str, key: str, checker, control) -> tuple[dict[str, set[str]], list[str]]:
    """Runs the sweep; returns, per operationId, the statuses it expects to have validated, and
    the requests that did not get the status they should have."""
    api = f"{base}/v1.2"
    h = {"x-api-key": key}

    def send(method: str, path: str, key_ok: bool = True, **kw) -> httpx.Response:
        r = HTTP.request(method, api + path, headers=h if key_ok else {"x-api-key": "tlk_WRONG"},
                          timeout=30, **kw)
        checker.check(method, "/v1.2" + path, r.status_code, dict(r.headers), r.content, "sweep")
        return r

    def must(r: httpx.Response, status: int) -> httpx.Response:
        if r.status_code != status:
            raise AssertionError(f"{r.request.method} {r.request.url}: {r.status_code} "
                                 f"(wanted {status}): {r.text[:300]}")
        return r

    # ---------------------------------------------------------------- fixtures
    idx = must(send("POST", "/indexes", json={"index_name": "sweep", "addons": ["thumbnail"], "engines": [
        {"engine_name": "marengo2.6", "engine_options": ["visual", "conversation", "text_in_video", "logo"]},
        {"engine_name": "pegasus1.1", "engine_options": ["visual", "conversation"]}]}), 201).json()["_id"]
    task = must(send("POST", "/tasks", data={"index_id": idx},
                     files={"video_file": ("a.mp4", b"\x00" * 512, "video/mp4")}), 201).json()["_id"]
    control("advance", {"seconds": 1000})
    vid = must(send("GET", f"/tasks/{task}"), 200).json()["video_id"]
    etask = must(send("POST", "/embed/tasks", data={"engine_name": "Marengo-retrieval-2.6",
                                                    "video_url": "https://example.com/v.mp4"}), 200).json()["_id"]
    control("advance", {"seconds": 1000})

    def search_token() -> str:
        r = must(send("POST", "/search", json={"index_id": idx, "query": "red mask",
                                               "search_options": ["visual", "conversation"], "page_limit": 1}), 200)
        return r.json()["page_info"]["next_page_token"]

    def combined_token() -> str:
        r = must(send("POST", "/search/combined", json={"index_id": idx, "search_options": ["visual"],
                                                        "query": {"$or": [{"text": "red mask"}, {"text": "jewelry"}]},
                                                        "page_limit": 1}), 200)
        return r.json()["page_info"]["next_page_token"]

    def classify_token() -> str:
        r = must(send("POST", "/classify/bulk", json={"index_id": idx, "options": ["visual"], "page_limit": 1,
                                                      "classes": [{"name": "A", "prompts": ["red mask"]},
                                                                  {"name": "B", "prompts": ["jewelry"]}],
                                                      "threshold": {"min_duration_ratio": 0.01}}), 200)
        return r.json()["page_info"]["next_page_token"]

    for _ in range(2):
        must(send("POST", "/tasks/external-provider", json={
            "index_id": idx, "url": "https://www.youtube.com/watch?v=73_1biulkYk"}), 201)
    control("advance", {"seconds": 1000})

    # operationId -> list of (status, request thunk)
    R = Callable[[], httpx.Response]
    cases: dict[str, list[tuple[int, R]]] = {
        "listEngines": [(200, lambda: send("GET", "/engines"))],
        "getEngine": [(200, lambda: send("GET", "/engines/pegasus1.1")),
                      (404, lambda: send("GET", "/engines/marengo9"))],
        "createIndex": [(201, lambda: send("POST", "/indexes", json={"index_name": "sweep 2", "engines": [
            {"engine_name": "marengo2.6", "engine_options": ["visual"]}]})),
                        (400, lambda: send("POST", "/indexes", json={"index_name": "x", "engines": [
                            {"engine_name": "marengo9", "engine_options": ["visual"]}]}))],
        "listIndexes": [(200, lambda: send("GET", "/indexes", params={"engine_options": "visual,logo"})),
                        (400, lambda: send("GET", "/indexes", params={"page_limit": 0}))],
        "getIndex": [(200, lambda: send("GET", f"/indexes/{idx}")),
                     (404, lambda: send("GET", f"/indexes/{NOID}"))],
        "updateIndex": [(200, lambda: send("PUT", f"/indexes/{idx}", json={"index_name": "sweep renamed"})),
                        (400, lambda: send("PUT", f"/indexes/{idx}", json={"index_name": "x", "engines": []})),
                        (404, lambda: send("PUT", f"/indexes/{NOID}", json={"index_name": "y"}))],
        "deleteIndex": [(200, lambda: send("DELETE", "/indexes/" + must(send("POST", "/indexes", json={
            "index_name": "doomed", "engines": [{"engine_name": "pegasus1", "engine_options": ["visual"]}]}), 201).json()["_id"])),
                        (404, lambda: send("DELETE", f"/indexes/{NOID}"))],
        "createTask": [(201, lambda: send("POST", "/tasks", data={"index_id": idx, "video_url": "https://example.com/b.mp4"},
                                          files={"dummy": ("", b"")})),
                       (400, lambda: send("POST", "/tasks", data={"index_id": idx}, files={"dummy": ("", b"")})),
                       (404, lambda: send("POST", "/tasks", data={"index_id": NOID, "video_url": "https://example.com/b.mp4"},
                                          files={"dummy": ("", b"")}))],
        "listTasks": [(200, lambda: send("GET", "/tasks", params={"index_id": idx, "created_at[gte]": "2000-01-01T00:00:00Z"})),
                      (400, lambda: send("GET", "/tasks", params={"page": 0}))],
        "getTask": [(200, lambda: send("GET", f"/tasks/{task}")), (404, lambda: send("GET", f"/tasks/{NOID}"))],
        "deleteTask": [(200, lambda: send("DELETE", "/tasks/" + must(send("POST", "/tasks", data={"index_id": idx},
                                                                          files={"video_file": ("b.mp4", b"1" * 64)}), 201).json()["_id"])),
                       (404, lambda: send("DELETE", f"/tasks/{NOID}"))],
        "deleteVideo": [(200, lambda: send("DELETE", f"/indexes/{idx}/videos/" + next(
            v["_id"] for v in must(send("GET", f"/indexes/{idx}/videos"), 200).json()["data"] if v["_id"] != vid))),
                        (404, lambda: send("DELETE", f"/indexes/{idx}/videos/{NOID}"))],
        "getTaskStatus": [(200, lambda: send("GET", "/tasks/status", params={"index_id": idx})),
                          (400, lambda: send("GET", "/tasks/status")),
                          (404, lambda: send("GET", "/tasks/status", params={"index_id": NOID}))],
        "createExternalProviderTask": [
            (201, lambda: send("POST", "/tasks/external-provider", json={"index_id": idx, "url": "https://youtu.be/73_1biulkYk"})),
            (400, lambda: send("POST", "/tasks/external-provider", json={"index_id": idx, "url": "https://example.com/v.mp4"})),
            (404, lambda: send("POST", "/tasks/external-provider", json={"index_id": NOID, "url": "https://youtu.be/x"}))],
        "createTransfer": [(200, lambda: send("POST", "/tasks/transfers", files={"file": ("t.json", json.dumps(
            [{"index_id": idx, "language": "en", "object": "s3://b/a.mp4"}]).encode(), "application/json")})),
                           (400, lambda: send("POST", "/tasks/transfers", files={"file": ("t.json", b"{}", "application/json")}))],
        "importFromIntegration": [(200, lambda: send("POST", "/tasks/transfers/import/s3-1", json={"index_id": idx})),
                                  (400, lambda: send("POST", "/tasks/transfers/import/s3-1", json={})),
                                  (404, lambda: send("POST", "/tasks/transfers/import/s3-1", json={"index_id": NOID}))],
        "getImportStatus": [(200, lambda: send("GET", "/tasks/transfers/import/s3-1/status", params={"index_id": idx})),
                            (400, lambda: send("GET", "/tasks/transfers/import/s3-1/status")),
                            (404, lambda: send("GET", "/tasks/transfers/import/s3-1/status", params={"index_id": NOID}))],
        "getImportLogs": [(200, lambda: send("GET", "/tasks/transfers/import/s3-1/logs"))],
        "listVideos": [(200, lambda: send("GET", f"/indexes/{idx}/videos", params={"fps[gte]": 24})),
                       (400, lambda: send("GET", f"/indexes/{idx}/videos", params={"sort_option": "sideways"})),
                       (404, lambda: send("GET", f"/indexes/{NOID}/videos"))],
        "getVideo": [(200, lambda: send("GET", f"/indexes/{idx}/videos/{vid}", params={"embed": "true"})),
                     (400, lambda: send("GET", f"/indexes/{idx}/videos/{vid}", params={"embed": "maybe"})),
                     (404, lambda: send("GET", f"/indexes/{idx}/videos/{NOID}"))],
        "updateVideo": [(200, lambda: send("PUT", f"/indexes/{idx}/videos/{vid}", json={"video_title": "T", "metadata": {"k": 1.5}})),
                        (400, lambda: send("PUT", f"/indexes/{idx}/videos/{vid}", json={"metadata": {"duration": 1}})),
                        (404, lambda: send("PUT", f"/indexes/{idx}/videos/{NOID}", json={"video_title": "T"}))],
        "getVideoTranscription": [(200, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/transcription", params={"start": 1.5})),
                                  (400, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/transcription", params={"start": "soon"})),
                                  (404, lambda: send("GET", f"/indexes/{idx}/videos/{NOID}/transcription"))],
        "getVideoTextInVideo": [(200, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/text-in-video")),
                                (400, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/text-in-video", params={"start": 9, "end": 1})),
                                (404, lambda: send("GET", f"/indexes/{NOID}/videos/{vid}/text-in-video"))],
        "getVideoLogo": [(200, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/logo")),
                         (400, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/logo", params={"end": -1})),
                         (404, lambda: send("GET", f"/indexes/{idx}/videos/{NOID}/logo"))],
        "getVideoThumbnail": [(200, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/thumbnail", params={"time": 2.5})),
                              (400, lambda: send("GET", f"/indexes/{idx}/videos/{vid}/thumbnail", params={"time": 10000})),
                              (404, lambda: send("GET", f"/indexes/{idx}/videos/{NOID}/thumbnail"))],
        "search": [(200, lambda: send("POST", "/search", json={"index_id": idx, "query": "red mask", "search_options": ["visual"],
                                                               "group_by": "video", "filter": {"duration": {"gte": 1}}})),
                   (400, lambda: send("POST", "/search", json={"index_id": idx, "query": "x", "search_options": ["visual"],
                                                               "filter": {"id": "not-a-list"}})),
                   (404, lambda: send("POST", "/search", json={"index_id": NOID, "query": "x", "search_options": ["visual"]}))],
        "searchV2": [(200, lambda: send("POST", "/search-v2", data={"index_id": idx, "search_options": ["visual", "logo"],
                                                                    "query_text": "red mask", "filter": json.dumps({"fps": 24})},
                                        files={"dummy": ("", b"")})),
                     (400, lambda: send("POST", "/search-v2", json={"index_id": idx})),
                     (404, lambda: send("POST", "/search-v2", data={"index_id": NOID, "search_options": "visual", "query_text": "x"},
                                        files={"dummy": ("", b"")}))],
        "combinedSearch": [(200, lambda: send("POST", "/search/combined", json={
            "index_id": idx, "search_options": ["visual"], "query": {"$not": {"origin": {"text": "red mask"}, "sub": {"text": "woman"}}}})),
                           (400, lambda: send("POST", "/search/combined", json={"index_id": idx, "search_options": ["visual"], "query": "plain"})),
                           (404, lambda: send("POST", "/search/combined", json={"index_id": NOID, "search_options": ["visual"], "query": {"$or": []}}))],
        "getSearchPage": [(200, lambda: send("GET", f"/search/{search_token()}")),
                          (404, lambda: send("GET", "/search/tok-unknown"))],
        "getSearchV2Page": [(200, lambda: send("GET", f"/search-v2/{search_token()}")),
                            (404, lambda: send("GET", "/search-v2/tok-unknown"))],
        "getCombinedSearchPage": [(200, lambda: send("GET", f"/search/combined/{combined_token()}")),
                                  (404, lambda: send("GET", "/search/combined/tok-unknown"))],
        "getCombinedSearchPageDocs": [(200, lambda: send("GET", f"/combined-search/{combined_token()}")),
                                          (404, lambda: send("GET", "/combined-search/tok-unknown"))],
        "classifyVideos": [(200, lambda: send("POST", "/classify", json={"video_ids": [vid], "options": ["visual"],
                                                                         "classes": [{"name": "A", "prompts": ["red mask"]}]})),
                           (400, lambda: send("POST", "/classify", json={"video_ids": [vid], "options": ["logo"],
                                                                         "classes": [{"name": "A", "prompts": ["x"]}]})),
                           (404, lambda: send("POST", "/classify", json={"video_ids": [NOID], "options": ["visual"],
                                                                         "classes": [{"name": "A", "prompts": ["x"]}]}))],
        "classifyIndex": [(200, lambda: send("POST", "/classify/bulk", json={"index_id": idx, "options": ["visual"],
                                                                             "classes": [{"name": "A", "prompts": ["red mask"]}]})),
                          (400, lambda: send("POST", "/classify/bulk", json={"index_id": idx, "options": ["visual"], "classes": []})),
                          (404, lambda: send("POST", "/classify/bulk", json={"index_id": NOID, "options": ["visual"],
                                                                             "classes": [{"name": "A", "prompts": ["x"]}]}))],
        "getClassifyPage": [(200, lambda: send("GET", f"/classify/{classify_token()}")),
                            (404, lambda: send("GET", f"/classify/{search_token()}"))],
        "gist": [(200, lambda: send("POST", "/gist", json={"video_id": vid, "types": ["title", "hashtag"]})),
                 (400, lambda: send("POST", "/gist", json={"video_id": vid, "types": ["poem"]})),
                 (404, lambda: send("POST", "/gist", json={"video_id": NOID, "types": ["title"]}))],
        "summarize": [(200, lambda: send("POST", "/summarize", json={"video_id": vid, "type": "highlight"})),
                      (400, lambda: send("POST", "/summarize", json={"video_id": vid, "type": "summary", "temperature": 2})),
                      (404, lambda: send("POST", "/summarize", json={"video_id": NOID, "type": "summary"}))],
        "generateText": [(200, lambda: send("POST", "/generate", json={"video_id": vid, "prompt": "Describe.", "stream": False})),
                         (200, lambda: send("POST", "/generate", json={"video_id": vid, "prompt": "Describe.", "stream": True})),
                         (400, lambda: send("POST", "/generate", json={"video_id": vid, "prompt": "x", "stream": "yes"})),
                         (404, lambda: send("POST", "/generate", json={"video_id": NOID, "prompt": "x"}))],
        "createEmbedding": [(200, lambda: send("POST", "/embed", data={"engine_name": "Marengo-retrieval-2.6", "text": "hello",
                                                                       "audio_url": "https://example.com/a.mp3"},
                                               files={"image_file": ("i.png", b"\x89PNG" + bytes(32), "image/png")})),
                            (200, lambda: send("POST", "/embed", data={"engine_name": "Marengo-retrieval-2.6", "text": "url-encoded"})),
                            (400, lambda: send("POST", "/embed", data={"engine_name": "Marengo-retrieval-2.6"},
                                               files={"dummy": ("", b"")}))],
        "createEmbedTask": [(200, lambda: send("POST", "/embed/tasks", data={"engine_name": "Marengo-retrieval-2.6",
                                                                             "video_url": "https://example.com/v.mp4",
                                                                             "video_embedding_scope": ["clip", "video"]},
                                               files={"dummy": ("", b"")})),
                            (400, lambda: send("POST", "/embed/tasks", data={"engine_name": "Marengo-retrieval-2.6",
                                                                             "video_url": "https://example.com/v.mp4",
                                                                             "video_clip_length": 20},
                                               files={"dummy": ("", b"")}))],
        "listEmbedTasks": [(200, lambda: send("GET", "/embed/tasks", params={"status": "ready"})),
                           (400, lambda: send("GET", "/embed/tasks", params={"started_at": "yesterday"}))],
        "getEmbedTask": [(200, lambda: send("GET", f"/embed/tasks/{etask}")),
                         (404, lambda: send("GET", f"/embed/tasks/{NOID}"))],
        "getEmbedTaskStatus": [(200, lambda: send("GET", f"/embed/tasks/{etask}/status")),
                               (400, lambda: send("GET", f"/embed/tasks/{NOID}/status"))],
    }
    # The wrong key and the injected faults are answered before any routing: one probe per
    # operation, its path filled with the fixtures.
    fill = {"index_id": idx, "video_id": vid, "task_id": etask, "engine_id": "pegasus1.1",
            "page_token": "tok-probe", "integration_id": "s3-1"}
    probes = {}
    for method, template, _pattern, _literal, op in checker.ops:
        path = template
        for k, v in fill.items():
            path = path.replace("{" + k + "}", v)
        probes[op["operationId"]] = (method, path)

    expected: dict[str, set[str]] = {}
    problems: list[str] = []
    for op_id in sorted(probes):
        expected[op_id] = set()
        for status, thunk in cases.get(op_id, []):
            try:
                must(thunk(), status)
                expected[op_id].add(str(status))
            except AssertionError as e:
                problems.append(f"{op_id}: {e}")
        method, path = probes[op_id]
        for status, fault in ((401, None), (429, {"status": 429, "retry_after": 1}),
                              (500, {"status": 500}), (503, {"status": 503})):
            try:
                if fault is None:
                    r = send(method, path, key_ok=False)
                else:
                    control("faults", dict(fault, times=1, path=path))
                    r = send(method, path)
                must(r, status)
                expected[op_id].add("5XX" if status >= 500 else str(status))
            except AssertionError as e:
                problems.append(f"{op_id}: {e}")
    missing = sorted(set(probes) - set(cases))
    if missing:
        problems.append(f"operations without a valid request in the sweep: {missing}")
    return expected, problems
