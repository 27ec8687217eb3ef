"""The sending domain's checks against a real DNS server holding known records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from newsletter.config import Settings, load_settings
from newsletter.deliver import domain
from newsletter.deliver.domain import Verdict, check_domain
from newsletter.deliver.setup import mail_setup
from tests.deliver.sending_domain import FROM, RELAY, dkim_key, good_records
from tests.dns_server import dns_server, txt


def _settings(tmp_path: Path, **delivery: Any) -> Settings:
    return load_settings(
        database_url=f"sqlite:///{tmp_path / 'n.db'}",
        var_dir=tmp_path / "var",
        site={"url": "https://news.example.org"},
        mail={"from_address": f"newsletter@{FROM}"},
        smtp_url=f"smtp://{RELAY}:587",
        delivery={
            "dkim_selector": "mail",
            "dkim_domain": FROM,
            "dkim_private_key": str(tmp_path / "dkim.pem"),
            **delivery,
        },
    )


def _verdicts(settings: Settings) -> dict[str, tuple[Verdict, str]]:
    setup = mail_setup(settings, "k" * 48)
    return {f.check: (f.verdict, f.says) for f in check_domain(settings, setup)}


def test_a_domain_set_up_right_passes_every_check(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with dns_server(good_records(dkim_key(tmp_path / "dkim.pem"))):
        found = _verdicts(settings)
    assert {check: verdict for check, (verdict, _) in found.items()} == {
        "SPF": Verdict.PASS,
        "DKIM": Verdict.PASS,
        "DMARC": Verdict.PASS,
        "One-click unsubscribe": Verdict.PASS,
    }
    assert RELAY in found["SPF"][1]
    assert "DKIM d=news.example.org" in found["DMARC"][1]


def test_spf_that_does_not_allow_the_relay_fails_naming_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    records = good_records(dkim_key(tmp_path / "dkim.pem"))
    records[0] = txt(FROM, "v=spf1 ip4:192.0.2.1 -all")
    with dns_server(records):
        verdict, says = _verdicts(settings)["SPF"]
    assert verdict is Verdict.FAIL
    assert f"{RELAY} (127.0.0.1): fail" in says
    with dns_server(records[1:]):
        verdict, says = _verdicts(settings)["SPF"]
    assert verdict is Verdict.FAIL
    assert "no single SPF record" in says


def test_a_relay_service_is_allowed_by_its_documented_include(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, relays=[{"name": "ses", "url": "smtp://email-smtp.us-east-1.amazonaws.com:587"}]
    )
    public = dkim_key(tmp_path / "dkim.pem")
    without = [txt(FROM, "v=spf1 include:_spf.example.org -all"), *good_records(public)[2:]]
    with dns_server(without):
        verdict, says = _verdicts(settings)["SPF"]
    assert verdict is Verdict.FAIL
    assert "add include:amazonses.com" in says
    # Reached through an include and a redirect, as providers' own records are often nested.
    nested = [
        txt(FROM, "v=spf1 redirect=_spf.example.org"),
        txt("_spf.example.org", "v=spf1 ip4:192.0.2.0/24 include:amazonses.com ~all"),
        *good_records(public)[2:],
    ]
    with dns_server(nested):
        assert _verdicts(settings)["SPF"][0] is Verdict.PASS


def test_a_dkim_record_that_is_missing_or_another_key_fails(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    records = good_records(dkim_key(tmp_path / "dkim.pem"))
    other = dkim_key(tmp_path / "other.pem")
    with dns_server([*records[:2], txt(f"mail._domainkey.{FROM}", f"v=DKIM1; p={other}")]):
        assert _verdicts(settings)["DKIM"] == (
            Verdict.FAIL,
            f"mail._domainkey.{FROM} publishes a key that does not match our private key",
        )
    with dns_server([*records[:2], records[3]]):
        verdict, says = _verdicts(settings)["DKIM"]
    assert verdict is Verdict.FAIL
    assert f"mail._domainkey.{FROM}" in says


def test_unsigned_mail_fails_dkim_and_aligns_dmarc_only_by_spf(tmp_path: Path) -> None:
    settings = _settings(tmp_path, dkim_selector=None, dkim_domain=None, dkim_private_key=None)
    with dns_server(good_records("unused")):
        found = _verdicts(settings)
    assert found["DKIM"][0] is Verdict.FAIL
    assert found["DMARC"] == (Verdict.PASS, f"p=reject; aligned: SPF {FROM}")


def test_dmarc_missing_monitoring_only_or_unaligned(tmp_path: Path) -> None:
    public = dkim_key(tmp_path / "dkim.pem")
    with dns_server(good_records(public)[:3]):
        verdict, says = _verdicts(_settings(tmp_path))["DMARC"]
    assert verdict is Verdict.FAIL
    assert "no DMARC record" in says
    # The organisational domain's record counts for a subdomain (RFC 7489 section 6.6.3).
    with dns_server([*good_records(public)[:3], txt("_dmarc.example.org", "v=DMARC1; p=none")]):
        verdict, says = _verdicts(_settings(tmp_path))["DMARC"]
    assert verdict is Verdict.WARN
    assert says.startswith("p=none (monitoring only")
    # Signed and bounced under another organisation's domain: nothing aligns with From.
    elsewhere = _settings(
        tmp_path, dkim_domain="relay.example.net", bounce_domain="bounce.example.net"
    )
    with dns_server(
        [*good_records(public), txt("mail._domainkey.relay.example.net", f"v=DKIM1; p={public}")]
    ):
        verdict, says = _verdicts(elsewhere)["DMARC"]
    assert verdict is Verdict.FAIL
    assert "neither the DKIM domain (relay.example.net) nor the bounce domain" in says
    # Relaxed alignment: a subdomain of the same organisation aligns; strict (adkim=s) does not.
    sub = _settings(tmp_path, dkim_domain="mail.example.org", bounce_domain="bounce.example.net")
    for policy, expected in (
        ("p=quarantine", Verdict.PASS),
        ("p=quarantine; adkim=s", Verdict.FAIL),
    ):
        records = [*good_records(public)[:2], txt(f"_dmarc.{FROM}", f"v=DMARC1; {policy}")]
        with dns_server(
            [*records, txt("mail._domainkey.mail.example.org", f"v=DKIM1; p={public}")]
        ):
            assert _verdicts(sub)["DMARC"][0] is expected, policy


def test_dns_that_does_not_answer_fails_each_check_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(domain, "LIFETIME", 0.3)
    settings = _settings(tmp_path)
    dkim_key(tmp_path / "dkim.pem")
    with dns_server([]) as resolver:
        resolver.port = 9  # discard: nothing answers there
        found = _verdicts(settings)
    assert found["SPF"] == (Verdict.FAIL, "no DNS answer within 0.3 s")
    assert found["DMARC"][0] is Verdict.FAIL
    assert found["One-click unsubscribe"][0] is Verdict.PASS
