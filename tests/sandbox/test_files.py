"""files_upload_v2 (getUploadURLExternal → POST the bytes → completeUploadExternal) sharing a PNG into a DM: the
stand-in keeps the bytes, so a test can check that the person got a real PNG."""

from __future__ import annotations

import struct
import urllib.request
import zlib

from slack_sdk import WebClient

from bot.sandbox import SlackStandIn
from tests.sandbox.conftest import ALICE
from tests.sandbox.test_standin import error_of

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tiny_png() -> bytes:
    """A valid 1×1 red PNG, made here so the test needs no image library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return PNG_MAGIC + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b"")


def test_a_png_shared_into_a_dm_keeps_its_bytes(slack: SlackStandIn, client: WebClient):
    dm = client.conversations_open(users=ALICE)["channel"]["id"]
    png = tiny_png()
    answer = client.files_upload_v2(channel=dm, file=png, filename="sla-30d.png", title="SLA, last 30 days",
                                    initial_comment="Your report for the last 30 days")
    assert (answer["file"]["filetype"], answer["file"]["mimetype"], answer["file"]["size"]) == (
        "png", "image/png", len(png))
    [file] = slack.files
    assert file.content == png and file.content.startswith(PNG_MAGIC) and file.channels == [dm]
    [message] = slack.dms(ALICE)
    assert (message.channel, message.text, message.files) == (dm, "Your report for the last 30 days", [file.id])
    assert [c.method for c in slack.calls] == [
        "conversations.open", "files.getUploadURLExternal", "files.completeUploadExternal"]


def test_sharing_into_a_conversation_that_does_not_exist_is_refused(slack: SlackStandIn, client: WebClient):
    png = tiny_png()
    upload = client.files_getUploadURLExternal(filename="x.png", length=len(png))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(urllib.request.Request(upload["upload_url"], data=png, method="POST"), timeout=5) as answer:
        assert answer.read() == f"OK - {len(png)}".encode()  # the upload URL takes raw bytes, no token
    assert error_of(client.files_completeUploadExternal, files=[{"id": upload["file_id"]}],
                    channel_id="D0NEVEROPENED") == "channel_not_found"
    assert slack.dms(ALICE) == [] and not slack.files[0].completed
