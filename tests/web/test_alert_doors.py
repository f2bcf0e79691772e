"""The alert doors as WSGI callables, without a server: who may knock, how big a body may be, what a refusal
says. Nothing reaches the intake unless the request passed every check (the intake given here fails the test)."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from typing import Any

from bot.domain.alerts import Source
from bot.web import build_wsgi
from bot.web.alerts import MAX_BODY, alert_doors, bearer_ok, grafana_signature_ok

TOKEN = "t0ken"


def never(*_: Any) -> Any:
    raise AssertionError("the intake must not be reached")


def call(app: Any, path: str, body: bytes, headers: dict[str, str], *, length: bool = True) -> tuple[int, dict]:
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "wsgi.input": io.BytesIO(body), **headers}
    if length:
        environ["CONTENT_LENGTH"] = str(len(body))
    answered: list[str] = []
    chunks = app(environ, lambda status, _headers: answered.append(status))
    return int(answered[0].split()[0]), json.loads(b"".join(chunks))


def test_the_bearer_token_is_compared_whole_and_in_constant_time():
    assert bearer_ok(f"Bearer {TOKEN}", TOKEN) and bearer_ok(f"bearer {TOKEN}", TOKEN)
    assert not bearer_ok(None, TOKEN) and not bearer_ok(TOKEN, TOKEN) and not bearer_ok(f"Basic {TOKEN}", TOKEN)
    assert not bearer_ok(f"Bearer {TOKEN}x", TOKEN) and not bearer_ok("Bearer t0ke", TOKEN)


def test_grafanas_signature_is_the_hex_hmac_of_the_body_or_of_timestamp_colon_body():
    body, secret = b'{"a": 1}', "s3cret"
    plain = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    stamped = hmac.new(secret.encode(), b"1700000000:" + body, hashlib.sha256).hexdigest()
    assert grafana_signature_ok(body, plain, None, secret)
    assert grafana_signature_ok(body, stamped.upper(), "1700000000", secret)
    assert not grafana_signature_ok(body, plain, "1700000000", secret)
    assert not grafana_signature_ok(body + b" ", plain, None, secret) and not grafana_signature_ok(body, None, None,
                                                                                                  secret)


def test_refusals_come_before_the_intake():
    app = build_wsgi(alert_doors(never, never, TOKEN, "s3cret"))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert call(app, "/alerts/alertmanager", b"{}", {})[0] == 401
    assert call(app, "/alerts/grafana", b"{}", auth)[0] == 401  # no signature
    huge = b" " * (MAX_BODY + 1)
    assert call(app, "/alerts/alertmanager", huge, auth)[0] == 413
    assert call(app, "/alerts/alertmanager", huge, auth, length=False)[0] == 413  # no Content-Length: read 1 MiB + 1
    status, answer = call(app, "/changes", b'{"service": "x"}', auth)
    assert (status, answer) == (400, {"error": "summary: is required"})
    assert call(app, "/alerts/alertmanager", b"[]", {**auth, "CONTENT_LENGTH": "x"}, length=False)[0] == 400


def test_without_a_token_every_door_is_a_404():
    app = build_wsgi(alert_doors(never, never, None, None))
    for path in ("/alerts/alertmanager", "/alerts/grafana", "/changes"):
        assert call(app, path, b"{}", {"HTTP_AUTHORIZATION": "Bearer anything"}) == (404, {"error": "not found"})


def test_an_unexpected_failure_is_a_503_never_a_500():
    def broken(*_: Any) -> Any:
        raise RuntimeError("a bug")

    app = build_wsgi(alert_doors(broken, never, TOKEN, None))
    body = json.dumps({"version": "4", "groupKey": "k", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2026-11-24T10:00:00Z"}]}).encode()
    status, answer = call(app, "/alerts/alertmanager", body, {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"})
    assert status == 503 and "send it again" in answer["error"]


def test_a_notification_that_passed_every_check_is_stored_as_it_came_with_its_source():
    stored: list[tuple[Source, bytes]] = []

    def store(source: Source, body: bytes) -> dict[str, Any]:
        stored.append((source, body))
        return {"status": "stored", "notification": len(stored)}

    app = build_wsgi(alert_doors(store, never, TOKEN, None))
    body = json.dumps({"version": "4", "groupKey": "k", "status": "firing", "unknown": "kept", "alerts": [
        {"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2026-11-24T10:00:00Z"}]}).encode()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert call(app, "/alerts/alertmanager", body, auth) == (200, {"status": "stored", "notification": 1})
    assert call(app, "/alerts/grafana", body, auth) == (200, {"status": "stored", "notification": 2})
    assert stored == [(Source.ALERTMANAGER, body), (Source.GRAFANA, body)]
    assert call(app, "/alerts/alertmanager", body.replace(b'"startsAt"', b'"started"'), auth)[0] == 400
    assert len(stored) == 2  # a body the routing could not read is refused at the door
