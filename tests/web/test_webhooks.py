"""POST /webhooks/{provider} through the app: each provider's documented calls, signed or forged.

Every provider: a hard bounce bounces, a soft bounce counts, a complaint suppresses, an
unsubscribe unsubscribes (SES reports none to SNS), a retry is a no-op, a forged signature or
token is refused, a signed call too old is refused, an event naming a Message-ID we never made
changes nothing and is counted, and a bare address alone is never acted on.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from sqlalchemy import select

from newsletter import migrate
from newsletter.clock import FixedClock
from newsletter.config import Settings, load_settings
from newsletter.deliver.msgid import MessageIds
from newsletter.deliver.verp import verp_address
from newsletter.errors import ConfigError
from newsletter.models import RelayEventSeen
from newsletter.pipeline.webhooks import Webhooks
from newsletter.runtime import Runtime
from newsletter.web.app import create_app
from subscribers.lifecycle import is_suppressed
from subscribers.models import Status, Subscriber
from tests import factories
from tests.deliver.conftest import NOW
from tests.deliver.test_bounces import dsn
from tests.web import relay_providers as relay
from tests.web.relay_providers import Keys, SnsHost

PROVIDERS = ("ses", "postmark", "sendgrid", "mailgun", "brevo")
SIGNED = ("ses", "sendgrid", "mailgun")


@dataclass
class Site:
    client: TestClient
    runtime: Runtime
    keys: Keys
    sns: SnsHost
    reader_id: int
    issue_id: int = 7

    @property
    def our_id(self) -> str:
        return MessageIds(self.runtime.signing_key).make(
            self.issue_id, self.reader_id, "example.org"
        )

    def post(self, provider: str, call: relay.Call) -> Any:
        return self.client.post(f"/webhooks/{provider}", content=call.body, headers=call.headers)

    def report(self, provider: str, kind: str, event_id: str, **extra: Any) -> Any:
        message_id = extra.pop("message_id", self.our_id)
        address = extra.pop("address", "reader@example.net")
        call = relay.call(provider, self.keys, kind, message_id, address, event_id, **extra)
        return self.post(provider, call)

    def reader(self) -> Subscriber:
        with self.runtime.sessions() as session:
            found = session.get(Subscriber, self.reader_id)
            assert found is not None
            session.expunge(found)
            return found

    def suppressed(self) -> bool:
        with self.runtime.sessions() as session:
            return is_suppressed(session, "reader@example.net")


def _settings(settings: Settings, keys: Keys, **webhooks: Any) -> Settings:
    data = settings.model_dump(mode="json")
    data["webhooks"] = {**keys.settings(), **webhooks}
    data["delivery"] = {"soft_bounce_limit": 2}
    return load_settings(**data)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys.make(NOW)


@pytest.fixture
def site(settings: Settings, keys: Keys) -> Iterator[Site]:
    runtime = Runtime.build(_settings(settings, keys), FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        reader = factories.add_subscriber(session, "reader@example.net", NOW)
        factories.add_subscriber(session, "bystander@example.net", NOW)
        reader_id = reader.id
    app = create_app(runtime)
    with relay.sns_host(keys.sns_pem) as sns:
        app.state.webhooks = Webhooks(runtime, fetch=sns.fetch)
        yield Site(TestClient(app), runtime, keys, sns, reader_id)
    runtime.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hard_bounce_bounces_its_subscriber_only(site: Site, provider: str) -> None:
    response = site.report(provider, "hard", "evt-hard-1")
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 1
    assert site.reader().status == Status.BOUNCED
    with site.runtime.sessions() as session:
        bystander = session.scalars(
            select(Subscriber).where(Subscriber.email == "bystander@example.net")
        ).one()
        assert bystander.status == Status.ACTIVE


@pytest.mark.parametrize("provider", PROVIDERS)
def test_soft_bounces_count_and_a_retry_counts_nothing(site: Site, provider: str) -> None:
    first = site.report(provider, "soft", "evt-soft-1")
    retry = site.report(provider, "soft", "evt-soft-1")
    assert first.json()["applied"] == 1
    assert (retry.status_code, retry.json()["applied"], retry.json()["duplicates"]) == (200, 0, 1)
    reader = site.reader()
    assert (reader.soft_bounces, reader.status) == (1, Status.ACTIVE)
    # A second, different soft bounce reaches the limit (2 here): the address counts as bounced.
    site.report(provider, "soft", "evt-soft-2")
    reader = site.reader()
    assert (reader.soft_bounces, reader.status) == (2, Status.BOUNCED)
    with site.runtime.sessions() as session:
        outcomes = session.scalars(
            select(RelayEventSeen.outcome).where(RelayEventSeen.provider == provider)
        ).all()
    assert sorted(outcomes) == ["soft bounce", "soft bounce"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_complaint_suppresses_and_stops_the_mail(site: Site, provider: str) -> None:
    response = site.report(provider, "complaint", "evt-complaint-1")
    assert response.json()["applied"] == 1
    assert site.reader().status == Status.COMPLAINED
    # A complaint about an address that has already left still suppresses it.
    assert site.report(provider, "hard", "evt-after").json()["applied"] == 1
    assert site.reader().status == Status.COMPLAINED


@pytest.mark.parametrize("provider", [p for p in PROVIDERS if p != "ses"])
def test_an_unsubscribe_event_unsubscribes(site: Site, provider: str) -> None:
    response = site.report(provider, "unsubscribe", "evt-unsub-1")
    assert response.json()["applied"] == 1, response.text
    assert site.reader().status == Status.UNSUBSCRIBED


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_message_id_we_never_made_changes_nothing_and_is_counted(
    site: Site, provider: str
) -> None:
    forged = MessageIds("someone-else-" + "k" * 40).make(7, site.reader_id, "example.org")
    response = site.report(provider, "hard", "evt-forged-id", message_id=forged)
    assert response.status_code == 200
    assert (response.json()["applied"], response.json()["unattributed"]) == (0, 1)
    assert "not one we signed" in response.json()["reasons"][0]
    assert site.reader().status == Status.ACTIVE


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_bare_address_is_never_acted_on(site: Site, provider: str) -> None:
    response = site.report(provider, "complaint", "evt-bare", message_id=None)
    assert (response.json()["applied"], response.json()["unattributed"]) == (0, 1)
    assert site.reader().status == Status.ACTIVE
    assert not site.suppressed()


def _forge(provider: str, call: relay.Call) -> relay.Call:
    """The same call with its signature (or token) made by someone without the secret."""
    if provider in ("postmark", "brevo"):
        return relay.Call(call.body, {"Authorization": "Bearer " + "x" * 40})
    if provider == "sendgrid":
        other = Keys.make(NOW)
        body = call.body
        return relay.sendgrid_signed(other, body, NOW)
    payload = json.loads(call.body)
    if provider == "mailgun":
        payload["signature"] = relay.mailgun_signature(NOW, key="key-guessed-" + "0" * 24)
        return relay.Call(json.dumps(payload).encode(), call.headers)
    # SES: the Message changed after SNS signed it.
    payload["Message"] = payload["Message"].replace("Permanent", "Permanent ")
    return relay.Call(json.dumps(payload).encode(), call.headers)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_forged_call_is_refused_and_changes_nothing(site: Site, provider: str) -> None:
    call = relay.call(provider, site.keys, "hard", site.our_id, "reader@example.net", "evt-f")
    response = site.post(provider, _forge(provider, call))
    assert response.status_code == 403
    assert site.reader().status == Status.ACTIVE
    assert site.post(provider, call).status_code == 200  # the genuine one still goes through


@pytest.mark.parametrize("provider", SIGNED)
def test_a_signed_call_from_too_long_ago_is_a_replay(site: Site, provider: str) -> None:
    old = NOW - timedelta(hours=2)
    response = site.report(provider, "hard", "evt-old", at=old)
    assert response.status_code == 403
    assert "replay is refused" in response.json()["error"]
    assert site.reader().status == Status.ACTIVE


@pytest.mark.parametrize("provider", ["postmark", "brevo"])
def test_a_replayed_token_call_is_a_retry_that_changes_nothing(site: Site, provider: str) -> None:
    call = relay.call(provider, site.keys, "soft", site.our_id, "reader@example.net", "evt-r")
    assert site.post(provider, call).json()["applied"] == 1
    assert site.post(provider, call).json()["duplicates"] == 1
    assert site.reader().soft_bounces == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_json_is_one_clear_400(site: Site, provider: str) -> None:
    if provider == "sendgrid":
        call = relay.sendgrid_signed(site.keys, b"{not json", NOW)
    elif provider in ("postmark", "brevo"):
        call = relay.Call(b"{not json", {"Authorization": f"Bearer {relay.TOKEN}"})
    else:
        call = relay.Call(b"{not json", {})
    response = site.post(provider, call)
    assert response.status_code == 400
    assert "not valid JSON" in response.text
    assert "Traceback" not in response.text


def test_an_unconfigured_or_unknown_provider_is_404(settings: Settings, keys: Keys) -> None:
    data = settings.model_dump(mode="json")
    data["webhooks"] = {"mailgun": {"signing_key": relay.MAILGUN_KEY}}
    runtime = Runtime.build(load_settings(**data), FixedClock(NOW))
    migrate.upgrade(runtime.engine)
    client = TestClient(create_app(runtime))
    call = relay.call("sendgrid", keys, "hard", None, "a@example.net", "e")
    assert (
        client.post("/webhooks/sendgrid", content=call.body, headers=call.headers).status_code
        == 404
    )
    assert client.post("/webhooks/sparkpost", content=b"{}").status_code == 404
    assert client.post("/webhooks/mailgun", content=b"{}").status_code == 403
    runtime.close()


def test_a_body_past_the_cap_is_refused_unread(site: Site) -> None:
    huge = b"[" + b" " * 1_100_000 + b"]"
    response = site.post("sendgrid", relay.sendgrid_signed(site.keys, huge, NOW))
    assert response.status_code == 413


def test_sns_certificates_come_only_from_an_sns_host_and_are_kept(site: Site) -> None:
    first = site.report("ses", "soft", "evt-cert-1")
    second = site.report("ses", "soft", "evt-cert-2")
    assert (first.status_code, second.status_code) == (200, 200)
    assert [hit for hit in site.sns.hits if hit.endswith(".pem")] == [
        "/SimpleNotificationService-0000.pem"
    ]
    for elsewhere in (
        "https://attacker.example.com/cert.pem",
        "https://sns.us-east-1.amazonaws.com.attacker.example/cert.pem",
        "http://sns.us-east-1.amazonaws.com/other.pem",
        "https://user@sns.us-east-1.amazonaws.com/other.pem",
        "https://sns.us-east-1.amazonaws.com:8443/other.pem",
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    ):
        message = json.loads(
            relay.call("ses", site.keys, "hard", site.our_id, "r@example.net", "evt-x").body
        )
        message["SigningCertURL"] = elsewhere
        signed = relay.sns_sign(site.keys, message)  # signed anew, over the changed field
        response = site.post("ses", relay.Call(json.dumps(signed).encode(), {}))
        assert response.status_code == 403, elsewhere
        assert "SNS host" in response.text
    assert len(site.sns.hits) == 1  # nothing fetched for any of them
    assert site.reader().soft_bounces == 2  # the two genuine ones, not the hard bounces


def test_sns_signature_version_1_is_read_too(site: Site) -> None:
    call = relay.call("ses", site.keys, "hard", site.our_id, "reader@example.net", "evt-v1")
    message = json.loads(call.body)
    v1 = relay.sns_sign(site.keys, message, version="1")
    assert site.post("ses", relay.Call(json.dumps(v1).encode(), {})).json()["applied"] == 1


def test_sns_subscription_is_confirmed_for_a_configured_topic_only(site: Site) -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37",
        "TopicArn": relay.TOPIC,
        "Message": f"You have chosen to subscribe to the topic {relay.TOPIC}.",
        "SubscribeURL": relay.SUBSCRIBE_URL,
        "Timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    }
    other_topic = relay.sns_sign(
        site.keys, {**confirmation, "TopicArn": "arn:aws:sns:us-east-1:999999999999:theirs"}
    )
    response = site.post("ses", relay.Call(json.dumps(other_topic).encode(), {}))
    assert response.status_code == 403
    assert not [hit for hit in site.sns.hits if "ConfirmSubscription" in hit]
    elsewhere = relay.sns_sign(
        site.keys, {**confirmation, "SubscribeURL": "https://attacker.example/confirm"}
    )
    assert site.post("ses", relay.Call(json.dumps(elsewhere).encode(), {})).status_code == 403
    assert not [hit for hit in site.sns.hits if "confirm" in hit.lower()]
    signed = relay.sns_sign(site.keys, confirmation)
    response = site.post("ses", relay.Call(json.dumps(signed).encode(), {}))
    assert (response.status_code, response.json()["ignored"]) == (200, 1)
    assert [hit for hit in site.sns.hits if "ConfirmSubscription" in hit] == [
        "/?Action=ConfirmSubscription&TopicArn=" + relay.TOPIC + "&Token=2336412f37"
    ]


def test_settings_refuse_a_key_that_is_not_p256_and_a_short_token(settings: Settings) -> None:
    data = settings.model_dump(mode="json")
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    der = p384.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for key, problem in (
        (base64.b64encode(der).decode(), "is not an ECDSA P-256 public key"),
        ("bm90IGEga2V5", "is not a base64 DER or PEM public key"),
    ):
        data["webhooks"] = {"sendgrid": {"public_key": key}}
        with pytest.raises(ConfigError, match=problem):
            load_settings(**data)
    data["webhooks"] = {"postmark": {"token": "short"}}
    with pytest.raises(ConfigError, match="token"):
        load_settings(**data)


def test_an_ses_bounce_to_our_verp_return_path_is_attributed_by_it(site: Site) -> None:
    """SES reports the envelope sender we gave (mail.source): our VERP tag names the reader."""
    verp = verp_address(
        site.runtime.signing_key, site.reader_id, "reader@example.net", "example.org"
    )
    call = relay.call("ses", site.keys, "hard", None, "reader@example.net", "evt-verp")
    message = json.loads(call.body)
    content = json.loads(message["Message"])
    content["mail"]["source"] = verp
    message["Message"] = json.dumps(content)
    signed = relay.sns_sign(site.keys, message)
    response = site.post("ses", relay.Call(json.dumps(signed).encode(), {}))
    assert response.json()["applied"] == 1
    assert site.reader().status == Status.BOUNCED


def test_a_postmark_bounce_is_attributed_by_the_message_its_content_quotes(site: Site) -> None:
    """With "include bounce content", Content is the returned DSN quoting our Message-ID."""
    call = relay.call("postmark", site.keys, "hard", None, "reader@example.net", "evt-content")
    record = json.loads(call.body)
    record["Content"] = dsn(
        "bounces@pm-bounces.example.org", "reader@example.net", "failed", "5.1.1", site.our_id
    )
    response = site.post("postmark", relay.Call(json.dumps(record).encode(), call.headers))
    assert response.json()["applied"] == 1
    assert site.reader().status == Status.BOUNCED


def test_a_signed_time_that_is_not_ascii_digits_is_not_a_signature(site: Site) -> None:
    call = relay.call("sendgrid", site.keys, "hard", site.our_id, "reader@example.net", "evt-t")
    # Superscript digits are str.isdigit() but not int(): a header arrives as Latin-1.
    superscript = "¹²³" + str(int(NOW.timestamp()))[3:]
    headers = {
        **call.headers,
        "X-Twilio-Email-Event-Webhook-Timestamp": superscript.encode("latin-1"),
    }
    response = site.client.post("/webhooks/sendgrid", content=call.body, headers=headers)
    assert response.status_code == 403
    assert "not signed" in response.json()["error"]
    assert site.reader().status == Status.ACTIVE
