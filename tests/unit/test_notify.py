"""Voicemail e-mail notification against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import logging
import socket
import struct
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from attendant.ops.notify import NotificationError, RetryPolicy, VoicemailNotifier
from attendant.storage import Message, VoicemailStore

START = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
FAST = RetryPolicy(max_attempts=100, base_delay=0.05, max_delay=0.2)
OWNERS = {"sales": ["alice@example.com", "bob@example.com"], "empty": []}


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.rcpts: list[list[str]] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[VoicemailStore]:
    s = VoicemailStore(tmp_path / "data", settle_timeout=0.2, quiet_period=0.02)
    yield s
    s.close()


@pytest.fixture
def make_notifier(store: VoicemailStore) -> Iterator[Callable[..., VoicemailNotifier]]:
    made: list[VoicemailNotifier] = []

    def make(port: int, **kwargs: object) -> VoicemailNotifier:
        kwargs.setdefault("retry", FAST)
        notifier = VoicemailNotifier(store, "127.0.0.1", port, "pbx@example.com",
                                     lambda box: OWNERS.get(box, []), timeout=5.0,
                                     local_hostname="localhost", **kwargs)
        made.append(notifier)
        return notifier

    yield make
    for notifier in made:
        notifier.stop()


def record(store: VoicemailStore, box: str = "sales", seconds: float = 2.0) -> Message:
    rec = store.begin(box, "+1 555 123 4567", "call-1", START)
    with wave.open(str(rec.path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(struct.pack("<h", 1000) * int(8000 * seconds))
    return store.finish(rec.id, "hash")


def test_the_owners_receive_the_message_with_the_wav_attached(store, make_notifier) -> None:
    message = record(store)
    port = free_port()
    with smtp_server(port) as inbox:
        notifier = make_notifier(port)
        notifier.notify(message)
        notifier.notify(message)  # queued once only
        assert notifier.flush(15.0)
    [mail] = inbox.mails
    assert inbox.rcpts == [["alice@example.com", "bob@example.com"]]
    assert mail["Subject"] == "Voicemail for sales from +1 555 123 4567 (2 s)"
    assert mail["From"] == "pbx@example.com"
    assert "From:     +1 555 123 4567" in mail.get_body(("plain",)).get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "audio/wav"
    assert attachment.get_filename() == f"voicemail-sales-20260314-092653-{message.id}.wav"
    assert attachment.get_content() == message.path.read_bytes()
    [entry] = notifier.outbox()
    assert (entry.status, entry.attempts, entry.last_error) == ("sent", 1, None)
    assert entry.recipients == ("alice@example.com", "bob@example.com")
    assert store.get(message.id).notified


def test_server_down_at_first_then_delivered_when_it_comes_up(store, make_notifier) -> None:
    message = record(store)
    port = free_port()
    notifier = make_notifier(port)
    notifier.notify(message)
    wait_for(lambda: notifier.outbox()[0].attempts >= 2)
    entry = notifier.outbox()[0]
    assert entry.status == "pending"
    assert "Connection refused" in (entry.last_error or "")
    assert not store.get(message.id).notified
    with smtp_server(port) as inbox:
        assert notifier.flush(15.0)
    assert len(inbox.mails) == 1
    assert notifier.outbox()[0].status == "sent"
    assert store.get(message.id).notified


def test_permanent_failure_is_kept_in_the_outbox(store, make_notifier, caplog) -> None:
    message = record(store)
    port = free_port()
    notifier = make_notifier(port, retry=RetryPolicy(max_attempts=3, base_delay=0.01,
                                                     max_delay=0.02))
    with caplog.at_level(logging.ERROR, logger="attendant.ops.notify"):
        notifier.notify(message)
        assert notifier.flush(15.0)
    [entry] = notifier.outbox()
    assert (entry.status, entry.attempts) == ("failed", 3)
    assert "ConnectionRefusedError" in (entry.last_error or "")
    assert "giving up after 3 attempt(s), kept in the outbox" in caplog.text
    assert store.get(message.id).path.is_file()
    # Once the server is back, an operator can send it after all.
    assert notifier.retry_failed() == 1
    with smtp_server(port) as inbox:
        assert notifier.flush(15.0)
    assert len(inbox.mails) == 1


def test_queued_mail_survives_a_restart(tmp_path: Path) -> None:
    port = free_port()
    first_store = VoicemailStore(tmp_path, settle_timeout=0.2)
    message = record(first_store)
    first = VoicemailNotifier(first_store, "127.0.0.1", port, "pbx@example.com",
                              lambda _box: ["alice@example.com"], start=False)
    first.notify(message)
    first.stop()
    first_store.close()

    store = VoicemailStore(tmp_path)
    with smtp_server(port) as inbox:
        second = VoicemailNotifier(store, "127.0.0.1", port, "pbx@example.com",
                                   lambda _box: ["alice@example.com"], retry=FAST,
                                   local_hostname="localhost")
        try:
            assert second.flush(15.0)
        finally:
            second.stop()
    assert len(inbox.mails) == 1
    assert store.get(message.id).notified
    store.close()


def test_catch_up_queues_finished_messages_never_queued(store, make_notifier) -> None:
    first, second = record(store), record(store)
    store.mark(second.id, "deleted")
    port = free_port()
    with smtp_server(port) as inbox:
        notifier = make_notifier(port)
        assert notifier.catch_up() == 1
        assert notifier.flush(15.0)
        assert notifier.catch_up() == 0
    assert len(inbox.mails) == 1
    assert store.get(first.id).notified


def test_a_message_without_audio_is_still_announced(store, make_notifier) -> None:
    message = store.finish(store.begin("sales", "+1", "c", START).id, "hangup")
    assert message.flag == "missing"
    port = free_port()
    with smtp_server(port) as inbox:
        notifier = make_notifier(port)
        notifier.notify(message)
        assert notifier.flush(15.0)
    [mail] = inbox.mails
    assert list(mail.iter_attachments()) == []
    assert "could not be attached (missing" in mail.get_body(("plain",)).get_content()


def test_a_box_without_owners_fails_at_once_and_is_kept(store, make_notifier) -> None:
    message = record(store, box="empty")
    notifier = make_notifier(free_port())
    notifier.notify(message)
    assert notifier.flush(15.0)
    [entry] = notifier.outbox()
    assert (entry.status, entry.attempts) == ("failed", 1)
    assert entry.last_error is not None
    assert "no e-mail address configured for voicemail box 'empty'" in entry.last_error


def test_a_header_injection_in_the_caller_id_is_neutralised(store, make_notifier) -> None:
    rec = store.begin("sales", "evil\r\nBcc: victim@example.com", "c", START)
    message = store.finish(rec.id, "hangup")
    mail = make_notifier(free_port(), start=False).build_email(message, ["a@example.com"])
    assert "\n" not in mail["Subject"]
    assert mail["Bcc"] is None


def test_configuration_errors_are_clear(store) -> None:
    def owners(box: str) -> list[str]:
        return []

    with pytest.raises(NotificationError, match="not a TCP port"):
        VoicemailNotifier(store, "127.0.0.1", 0, "pbx@example.com", owners, start=False)
    with pytest.raises(NotificationError, match="not an e-mail address"):
        VoicemailNotifier(store, "127.0.0.1", 25, "pbx", owners, start=False)
    with pytest.raises(NotificationError, match="both username and password"):
        VoicemailNotifier(store, "127.0.0.1", 25, "pbx@x.org", owners, username="u",
                          start=False)
    with pytest.raises(NotificationError, match="password in the clear"):
        VoicemailNotifier(store, "127.0.0.1", 25, "pbx@x.org", owners, username="u",
                          password="p", start=False)
    VoicemailNotifier(store, "127.0.0.1", 25, "pbx@x.org", owners, username="u",
                      password="p", use_starttls=True, start=False)
    VoicemailNotifier(store, "127.0.0.1", 25, "pbx@x.org", owners, username="u",
                      password="p", plain_login=True, start=False)
    with pytest.raises(NotificationError, match="bad retry policy"):
        RetryPolicy(max_attempts=0)
    rec = store.begin("sales", "+1", "c", START)
    notifier = VoicemailNotifier(store, "127.0.0.1", 25, "pbx@x.org", owners, start=False)
    with pytest.raises(NotificationError, match="still being recorded"):
        notifier.notify(store.get(rec.id))


def test_backoff_is_exponential_and_bounded() -> None:
    policy_ = RetryPolicy(max_attempts=10, base_delay=2.0, max_delay=30.0)
    assert [policy_.delay(n) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_a_callback_given_up_is_e_mailed_to_the_queues_address(store, make_notifier) -> None:
    port = free_port()
    with smtp_server(port) as inbox:
        notifier = make_notifier(port)
        mail = notifier.callback_failed_email("sales", "+12125550177", 2,
                                              ["sales-lead@example.com"])
        assert notifier.send_mail(mail, ["sales-lead@example.com"]) == []
    [received] = inbox.mails
    assert inbox.rcpts == [["sales-lead@example.com"]]
    assert received["Subject"] == "Callback not answered: +12125550177 (queue sales)"
    body = received.get_body(("plain",)).get_content()
    assert "dialled 2 time(s) and never answered" in body
    assert "+12125550177" in body
