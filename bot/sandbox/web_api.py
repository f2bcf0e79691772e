"""Slack's HTTP endpoints as the stand-in serves them: request parsing, auth, fault injection, the call log,
and routing to the Web API methods, the file upload URLs and the response_urls."""

from __future__ import annotations

import copy
import json
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from bot.sandbox import api_chat, api_conversations, api_users, api_views, scopes, socket_mode
from bot.sandbox.loopback import LoopbackHTTPServer
from bot.sandbox.records import Call, ResponsePost
from bot.sandbox.workspace import ApiError, Args, Fault, Workspace, monotonic

METHODS: dict[str, api_conversations.Method] = {
    **api_conversations.METHODS,
    **api_users.METHODS,
    **api_chat.METHODS,
    **socket_mode.METHODS,
    **api_views.METHODS,
}
NO_AUTH = frozenset({"api.test"})
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0

Answer = tuple[int, dict[str, str], bytes]


def _json_answer(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(
        payload
    ).encode()


def parse_body(content_type: str, body: bytes, query: str) -> tuple[dict[str, Any], bool]:
    """The request's arguments (query string merged with the body) and whether the body was JSON."""
    data: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";")[0].strip().lower()
    if not body:
        return data, False
    if mime == "application/json":
        parsed = json.loads(body.decode("utf-8"))
        if not isinstance(parsed, dict):
            raise ValueError("a JSON body must be an object")
        data.update(parsed)
        return data, True
    if mime == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            decoded = part.get_payload(decode=True)
            payload = decoded if isinstance(decoded, bytes) else b""
            data[str(name)] = payload if part.get_filename() else payload.decode("utf-8")
        return data, False
    data.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return data, False


def _next_fault(ws: Workspace, method: str) -> Fault | None:
    """The fault this call of ``method`` meets, if any (used up as it is met)."""
    faults = ws.faults.get(method)
    if not faults:
        return None
    fault = faults[0]
    if fault.skip > 0:  # calls let through before the fault starts
        fault.skip -= 1
        return None
    fault.remaining -= 1
    if fault.remaining <= 0:
        faults.pop(0)
    return fault


def _fault_answer(fault: Fault) -> tuple[Answer, str]:
    if fault.error is not None:
        return _json_answer(200, {"ok": False, "error": fault.error}), fault.error
    if fault.status == 429:
        answer = _json_answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)})
        return answer, "ratelimited"
    if fault.status == 500:
        html = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
        return (500, {"Content-Type": "text/html"}, html), "http_500"
    return (fault.status, {"Content-Type": "text/plain"}, b""), f"http_{fault.status}"


def handle_api(ws: Workspace, method: str, headers: dict[str, str], body: bytes, query: str) -> Answer:
    error: str | None
    parse_failed = False
    try:
        data, was_json = parse_body(headers.get("content-type", ""), body, query)
    except (ValueError, UnicodeDecodeError):
        data, was_json = {}, True
        parse_failed = True
    header_token = headers.get("authorization", "").removeprefix("Bearer ").strip() or None
    form_token = None if was_json else data.get("token")
    data.pop("token", None)
    logged = copy.deepcopy(data)
    late_by = 0.0
    with ws.lock:
        if method not in METHODS:
            answer, error = _json_answer(404, {"ok": False, "error": "unknown_method"}), "unknown_method"
        elif (fault := _next_fault(ws, method)) is not None and not fault.late_by:
            answer, error = _fault_answer(fault)
        else:
            late_by = fault.late_by if fault is not None else 0.0
            answer, error = _call(ws, method, data, header_token or form_token, parse_failed)
        ws.calls.append(Call(method, logged, answer[0], error is None, error, monotonic()))
    if late_by:
        time.sleep(late_by)  # the call took effect; the caller may have given up waiting for this answer
    return answer


def _granted(ws: Workspace, method: str, token: str | None) -> tuple[str, ...]:
    """The scopes of the token the call carries; ApiError when Slack would not take the token for `method`."""
    if not token:
        raise ApiError("not_authed")
    if token not in (ws.token, ws.app_token):
        raise ApiError("invalid_auth")
    if (token == ws.app_token) != (method in scopes.APP_TOKEN_METHODS):
        raise ApiError("not_allowed_token_type")
    return ws.app_scopes if token == ws.app_token else ws.scopes


def _call(ws: Workspace, method: str, data: dict[str, Any], token: str | None, parse_failed: bool
          ) -> tuple[Answer, str | None]:
    headers: dict[str, str] = {}
    try:
        if method not in NO_AUTH:
            granted = _granted(ws, method, token)
            accepted = scopes.accepted(method)
            headers = {"x-oauth-scopes": ",".join(granted), "x-accepted-oauth-scopes": ",".join(accepted)}
            if accepted and not set(accepted) & set(granted):
                raise ApiError("missing_scope", needed=accepted[0], provided=",".join(granted))
            if ws.limiter is not None:
                channel = data.get("channel") if isinstance(data.get("channel"), str) else None
                retry_after = ws.limiter.take(method, channel, (ws.limiter.clock or monotonic)())
                if retry_after is not None:
                    ws.ratelimited[method] += 1
                    headers["Retry-After"] = str(retry_after)
                    return _json_answer(429, {"ok": False, "error": "ratelimited"}, headers), "ratelimited"
        if parse_failed:
            raise ApiError("invalid_json")
        result = METHODS[method](ws, Args(data))
    except ApiError as exc:
        payload: dict[str, Any] = {"ok": False, "error": exc.error, **exc.extra}
        if exc.messages:
            payload["response_metadata"] = {"messages": exc.messages}
        return _json_answer(exc.status, payload, headers), exc.error
    return _json_answer(200, {"ok": True, **result}, headers), None


def handle_response_url(ws: Workspace, url_id: str, headers: dict[str, str], body: bytes) -> Answer:
    with ws.lock:
        url = ws.response_urls.get(url_id)
        if url is None:
            return _json_answer(404, {"ok": False, "error": "invalid_url"})
        if monotonic() - url.created > RESPONSE_URL_TTL:
            return _json_answer(404, {"ok": False, "error": "expired_url"})
        if url.uses >= RESPONSE_URL_USES:
            return _json_answer(404, {"ok": False, "error": "used_url"})
        try:
            data, was_json = parse_body(headers.get("content-type", ""), body, "")
            message = data if was_json else json.loads(data.get("payload", ""))
        except (ValueError, UnicodeDecodeError):
            return _json_answer(400, {"ok": False, "error": "invalid_payload"})
        url.uses += 1
        ws.response_posts.append(ResponsePost(url=f"{ws.base_url}/response/{url_id}", body=copy.deepcopy(message)))
        status, answer = api_chat.respond(ws, url, message, via="response_url")
        return _json_answer(status, answer)


def handle_upload(ws: Workspace, file_id: str, body: bytes) -> Answer:
    with ws.lock:
        status, text = api_chat.receive_upload(ws, file_id, body)
    return status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode()


class _Handler(BaseHTTPRequestHandler):
    server: WebApiServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self._dispatch()

    def _dispatch(self) -> None:
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        ws = self.server.workspace
        if path.startswith("/api/"):
            status, answer_headers, payload = handle_api(ws, path.removeprefix("/api/"), headers, body, query)
        elif path.startswith("/response/") and self.command == "POST":
            status, answer_headers, payload = handle_response_url(ws, path.removeprefix("/response/"), headers, body)
        elif path.startswith("/upload/") and self.command == "POST":
            status, answer_headers, payload = handle_upload(ws, path.removeprefix("/upload/"), body)
        else:
            status, answer_headers, payload = 404, {"Content-Type": "text/plain"}, b"not found"
        self.send_response(status)
        for name, value in answer_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class WebApiServer(LoopbackHTTPServer):
    def __init__(self, address: tuple[str, int], workspace: Workspace) -> None:
        super().__init__(address, _Handler)
        self.workspace = workspace
