"""The settings' schema: sections, their defaults and checks; reading them is load.py's job."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from newsletter.config import checks
from newsletter.config.checks import MAKE_SECRET, MIN_SECRET_BYTES
from newsletter.config.sources import ENV_PREFIX, file_and_flat_sources


class _Section(BaseModel):
    # A misspelt key in newsletter.toml is an error, not a silently ignored line.
    model_config = ConfigDict(extra="forbid")


class SiteSettings(_Section):
    name: str = "Example Council News"
    url: HttpUrl = HttpUrl("http://127.0.0.1:8000")
    timezone: str = "America/New_York"
    language: str = "en"
    description: str = "News and analysis from Example Council."
    template_dir: Path | None = None
    # The public pages' branding (the logo is [organization] logo_url): an accent colour for
    # links and buttons (it must keep 4.5:1 contrast on white), and CSS font stacks.
    accent_color: str = "#0b5cab"
    heading_font: str = "Arial, Helvetica, sans-serif"
    body_font: str = "Georgia, 'Times New Roman', serif"
    # The organisation's own privacy policy; unset, the footer links to our /privacy page.
    privacy_url: HttpUrl | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return checks.time_zone(value)

    @field_validator("accent_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        return checks.readable_colour(value)

    @field_validator("heading_font", "body_font")
    @classmethod
    def _font(cls, value: str) -> str:
        return checks.font_stack(value)

    @property
    def base_url(self) -> str:
        """The site URL without a trailing slash, for joining paths."""
        return str(self.url).rstrip("/")


class OrganizationSettings(_Section):
    name: str = "Example Council"
    postal_address: str = "100 Example Street, Suite 200, Washington, DC 20005"
    donate_url: HttpUrl = HttpUrl("https://example.org/donate")
    donate_heading: str = "Make a contribution"
    donate_text: str = "Make a direct impact on the lives of immigrants."
    donate_button: str = "Donate"
    logo_url: HttpUrl | None = None


class TopicSettings(_Section):
    slug: str
    name: str
    description: str = ""

    @field_validator("slug")
    @classmethod
    def _valid_slug(cls, value: str) -> str:
        return checks.slug(value)


class SelectorSettings(_Section):
    item: str | None = None
    title: str | None = None
    link: str | None = None
    teaser: str | None = None
    date: str | None = None
    author: str | None = None
    topic: str | None = None
    image: str | None = None


class SourceSettings(_Section):
    name: str
    kind: Literal["feed", "wordpress", "html", "push"]
    url: HttpUrl | None = None
    topics: list[str] = Field(default_factory=list)
    enabled: bool = True
    selectors: SelectorSettings | None = None
    # html: how many "next page" links to follow; unset means [collect] max_pages.
    max_pages: int | None = Field(default=None, ge=1, le=100)
    # push: SHA-256 (hex) of the source's API key; `newsletter sources new-key` makes one.
    api_key_sha256: str | None = None

    @field_validator("api_key_sha256")
    @classmethod
    def _sha256_hex(cls, value: str | None) -> str | None:
        return checks.sha256_hex(value)


class CollectSettings(_Section):
    """How sources are read: limits on every fetch, teasers, backfill."""

    teaser_length: int = Field(default=300, ge=40, le=5000)
    # New posts published longer ago than this are stored as already announced.
    backfill_days: int = Field(default=7, ge=0)
    max_pages: int = Field(default=5, ge=1, le=100)
    wordpress_per_page: int = Field(default=50, ge=1, le=100)
    timeout: float = Field(default=20.0, gt=0)
    # Wall-clock limits httpx's per-read timeout cannot give: one response (body included),
    # and everything one source fetches in a run (pages, retries, their waits).
    request_deadline: float = Field(default=30.0, gt=0)
    source_deadline: float = Field(default=120.0, gt=0)
    max_bytes: int = Field(default=5_000_000, ge=1000)
    max_redirects: int = Field(default=5, ge=0, le=20)
    retries: int = Field(default=2, ge=0, le=10)
    backoff: float = Field(default=1.0, ge=0)
    user_agent: str = "newsletter-collector/0.1 (+https://example.org)"
    # Hosts fetched even on private addresses when an editor typed them in the admin (an
    # intranet CMS); the settings file's own sources are trusted anyway.
    trusted_hosts: list[str] = Field(default_factory=list)
    # Editors are emailed once when a source fails this many runs in a row, or brings no new
    # post for this many times its usual interval between posts; and once when it recovers.
    alert_after_failures: int = Field(default=3, ge=1)
    alert_quiet_factor: float = Field(default=3.0, gt=1)


# How a daily digest or a single-story email is let go: "automatic" at once, "delay" after the
# delay unless an editor holds it, "approval" only once an editor approves it.
SendPolicy = Literal["automatic", "delay", "approval"]


class DigestSettings(_Section):
    build: str = "thu 09:00"
    send: str = "fri 10:00"
    max_posts: int = Field(default=12, ge=1, le=100)
    auto_send: bool = False
    # The period an issue covers: this many days ending at build time, named by key_format
    # (strftime codes on the period's end in the site's time zone; "%G-W%V" gives "2026-W48").
    period_days: int = Field(default=7, ge=1, le=31)
    key_format: str = "%G-W%V"
    # With nothing new: "skip" builds no issue, "send" builds a short quiet-week issue.
    quiet_week: Literal["skip", "send"] = "skip"
    # Where "N more stories on the site" points; the site URL when unset.
    more_url: HttpUrl | None = None
    # UTM parameters on every link to the site and the donate page; {issue} is the issue key.
    utm: bool = True
    utm_source: str = "newsletter"
    utm_medium: str = "email"
    utm_campaign: str = "digest-{issue}"
    # The cadences readers may choose per topic. Weekly is everyone's default; "daily" and
    # "each" (every story as it is published) are offered on the forms only when listed.
    cadences: list[Literal["weekly", "daily", "each"]] = ["weekly"]
    # The daily digest goes out at this local time ("HH:MM", site time zone) with the stories
    # of the last daily_lookback_hours a reader has not had yet.
    daily_send: str = "07:00"
    daily_lookback_hours: int = Field(default=36, ge=1, le=168)
    # A published story waits this long before its single-story email, so an editor can hold
    # or fix it; stories published while one waits go out with it, as one email.
    each_delay_minutes: int = Field(default=15, ge=0, le=1440)
    # No single-story email goes out in this local window ("21:00-07:00", may cross midnight;
    # "" for none); one due inside it waits until the window ends.
    quiet_hours: str = "21:00-07:00"
    # Weekly issues keep auto_send and approval; these are for the other cadences.
    policy_daily: SendPolicy = "automatic"
    policy_each: SendPolicy = "delay"

    @field_validator("cadences")
    @classmethod
    def _cadences(cls, value: list[str]) -> list[str]:
        if "weekly" not in value:
            raise ValueError("must include weekly, every reader's default")
        return list(dict.fromkeys(value))

    @field_validator("build", "send")
    @classmethod
    def _weekly_slot(cls, value: str) -> str:
        return checks.weekly_slot(value)

    @field_validator("daily_send")
    @classmethod
    def _daily_send(cls, value: str) -> str:
        return checks.clock_time(value).strftime("%H:%M")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        window = checks.quiet_window(value)
        return "" if window is None else "-".join(t.strftime("%H:%M") for t in window)

    @property
    def daily_send_time(self) -> time:
        return checks.clock_time(self.daily_send)

    @property
    def quiet_window(self) -> tuple[time, time] | None:
        """quiet_hours as (start, end) local times, for newsletter.digest.cadence_times."""
        return checks.quiet_window(self.quiet_hours)


class MailSettings(_Section):
    from_name: str = "Example Council News"
    from_address: str = "newsletter@example.org"
    # Where readers' replies go (a person's inbox), set as Reply-To on every digest and
    # transactional mail; unset: replies go to from_address.
    reply_to: str | None = None

    @field_validator("reply_to")
    @classmethod
    def _reply_to(cls, value: str | None) -> str | None:
        return checks.mail_address(value) if value is not None else None


class SubscriberSettings(_Section):
    """Double opt-in and the limits that keep the signup form from being abused."""

    # How long a confirmation link works.
    confirmation_max_age_days: int = Field(default=7, ge=1, le=90)
    # At most one confirmation email per address in this many hours, however often it signs up.
    confirmation_resend_hours: int = Field(default=24, ge=0, le=24 * 30)
    # Signups never confirmed are deleted this many days after they were made (0: kept).
    prune_unconfirmed_days: int = Field(default=30, ge=0, le=3650)
    # How long the links in every email work. An unsubscribe link must work for at least
    # 30 days after sending (RFC 8058, CAN-SPAM); an expired link's page says what to do.
    unsubscribe_link_max_age_days: int = Field(default=365, ge=30, le=3650)
    preferences_link_max_age_days: int = Field(default=90, ge=1, le=3650)
    # POST /subscribe attempts allowed per window: per client address, and per email address.
    rate_limit_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    rate_limit_per_client: int = Field(default=10, ge=0)
    rate_limit_per_email: int = Field(default=3, ge=0)
    # Ask DNS whether an address's domain takes mail (slow; off by default).
    check_deliverability: bool = False
    # A welcome email once a reader confirms: their topics, the latest issue, the donate call.
    welcome_email: bool = True
    # Sites whose pages may carry the embedded signup form and call POST /api/subscribe, as
    # origins ("https://news.example.org"); none: the embed and the API refuse every page.
    embed_origins: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [checks.web_origin(origin) for origin in value]

    @property
    def rate_limit_window(self) -> timedelta:
        return timedelta(minutes=self.rate_limit_window_minutes)


class FeedSettings(_Section):
    entries: int = Field(default=50, ge=1, le=1000)
    max_age: int = Field(default=300, ge=0, le=86400)
    websub_hub: HttpUrl | None = None
    logo_url: HttpUrl | None = None


class AdminSettings(_Section):
    # Editors stay signed in this long without activity.
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Sign-in attempts per window: per account from one client (or from a browser that signed
    # in to it before), from one client over all accounts, and on one account from all
    # clients it never signed in from. See newsletter/editors/limits.py.
    login_attempts: int = Field(default=5, ge=1)
    login_attempts_per_client: int = Field(default=20, ge=1)
    login_attempts_per_account: int = Field(default=50, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # argon2 checks running at once in one process (64 MiB each); more sign-ins wait briefly,
    # then are asked to try again.
    password_checks: int = Field(default=2, ge=1, le=64)
    # Every editor must sign in with a code from an authenticator app too (TOTP); one who has
    # not set it up is sent to do so after the password, and can do nothing else until then.
    require_two_factor: bool = False


class WebSettings(_Section):
    """What `newsletter serve` accepts from the network, and whom it trusts."""

    # Largest request body for POST /api/posts, and for every other request (forms); larger
    # ones are answered 413 without being read.
    max_body_bytes: int = Field(default=5_000_000, ge=10_000)
    max_form_bytes: int = Field(default=100_000, ge=1_000)
    # Largest CSV file an editor can import in the admin (the command line has no limit).
    max_import_bytes: int = Field(default=20_000_000, ge=10_000)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: comma-separated addresses
    # or networks, "*" for any. `serve --forwarded-allow-ips` overrides it.
    forwarded_allow_ips: str = "127.0.0.1"
    # Bearer token that shows /healthz's details (lease holder, this process's role, version);
    # unset: only the public status is ever shown.
    health_token: SecretStr | None = None
    # Bearer token for GET /metrics (Prometheus' text format); unset: /metrics answers 404.
    metrics_token: SecretStr | None = None

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return checks.trusted_proxies(value)


class TokenWebhook(_Section):
    """A provider that does not sign its calls: a shared token authenticates them."""

    # Sent as the password of HTTP basic auth (https://any:TOKEN@host/webhooks/...), or as
    # "Authorization: Bearer TOKEN", or in an X-Webhook-Token header.
    token: SecretStr = Field(min_length=16)


class SesWebhook(_Section):
    """Amazon SES through SNS: each call is signed by SNS with a certificate on an AWS host."""

    # The SNS topics whose notifications are taken (and whose subscriptions are confirmed).
    topic_arns: list[str] = Field(min_length=1)


class SendgridWebhook(_Section):
    """SendGrid's signed event webhook (ECDSA P-256)."""

    # The verification key shown under Mail Settings → Signed Event Webhook (base64 DER).
    public_key: str

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        return checks.ec_public_key(value)


class MailgunWebhook(_Section):
    """Mailgun's webhooks, signed with HMAC-SHA256."""

    # The HTTP webhook signing key (Mailgun: Sending → Webhooks → HTTP webhook signing key).
    signing_key: SecretStr = Field(min_length=16)


class WebhookSettings(_Section):
    """Relay services' bounce and complaint webhooks: POST /webhooks/{provider}."""

    # A call whose signed time is further than this from now is refused as a replay.
    max_age_seconds: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Largest body taken (a SendGrid batch, an SNS notification); larger ones are answered 413.
    max_body_bytes: int = Field(default=1_000_000, ge=10_000, le=50_000_000)
    # Each provider left unset answers 404.
    ses: SesWebhook | None = None
    postmark: TokenWebhook | None = None
    sendgrid: SendgridWebhook | None = None
    mailgun: MailgunWebhook | None = None
    brevo: TokenWebhook | None = None


class RelaySettings(_Section):
    """One mail server (or provider) to send through, with its own limits."""

    name: str
    url: str
    # Messages per second through this relay, over every worker together; 0: no limit.
    rate_per_second: float = Field(default=0.0, ge=0)
    # Messages in any rolling hour through this relay; 0: no cap.
    per_hour: int = Field(default=0, ge=0)
    # Connections each sending process opens to it; unset: delivery.connections.
    connections: int | None = Field(default=None, ge=1, le=100)

    @field_validator("url")
    @classmethod
    def _smtp(cls, value: str) -> str:
        return checks.smtp_url(value)


class DeliverySettings(_Section):
    """How fast and how patiently an issue is sent, and how bounces find their way back."""

    # Parallel SMTP connections (persistent, each reopened after a drop).
    connections: int = Field(default=4, ge=1, le=100)
    # Messages per second over all connections; 0 means as fast as the server takes them.
    rate_per_second: float = Field(default=0.0, ge=0)
    # Messages in any rolling hour, for relays with a quota; 0 means no cap.
    per_hour: int = Field(default=0, ge=0)
    # Outcomes are committed at least this often (messages per connection): the most a SIGKILL
    # can send twice is connections × batch_size.
    batch_size: int = Field(default=20, ge=1, le=1000)
    # Temporary failures are retried with exponential backoff from this delay...
    retry_base_seconds: float = Field(default=60.0, gt=0)
    # ... until this long after the issue started sending; then the delivery fails.
    retry_deadline_hours: float = Field(default=24.0, gt=0)
    # ... or until it has been tried this many times, whichever comes first.
    max_attempts: int = Field(default=10, ge=1, le=100)
    # This many failures in a row from the mail server that are not about one recipient (policy
    # refusals, 421/451, unreachable) pause the issue and stay pending; on a smaller list, all.
    pause_after_failures: int = Field(default=20, ge=1)
    # Seconds to wait for the mail server before a command counts as a temporary failure.
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Bounces come back to bounces+<token>@<bounce_domain>; unset: the domain of mail.from_address.
    bounce_domain: str | None = None
    # Soft bounces (full mailbox, ...) an address may collect before it counts as a hard bounce.
    soft_bounce_limit: int = Field(default=3, ge=1)
    # List-Id header, e.g. "weekly.news.example.org"; unset: "newsletter.<bounce domain>".
    list_id: str | None = None
    # DKIM signing: all three set, or none.
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_private_key: Path | None = None
    # Several relays, each with its own URL and limits; unset: NEWSLETTER_SMTP_URL (or the
    # outbox) with rate_per_second and per_hour above.
    relays: list[RelaySettings] = Field(default_factory=list)
    # Workers (and the in-process sender) claim this many deliveries at a time ...
    claim_size: int = Field(default=200, ge=1, le=10_000)
    # ... for this long, renewed every third of it while the sender lives: a sender that dies
    # leaves its rows to others once the time is up.
    claim_seconds: float = Field(default=20.0, ge=5)
    # With NEWSLETTER_BROKER_URL: how many batch tasks `digest send` keeps going at once
    # (each sends a claim, then queues its successor); more than workers × concurrency.
    lanes: int = Field(default=16, ge=1, le=1000)
    # Shared rate limits live in Redis under this key prefix.
    redis_prefix: str = "newsletter"

    @field_validator("relays")
    @classmethod
    def _unique_relays(cls, value: list[RelaySettings]) -> list[RelaySettings]:
        checks.unique(value, lambda relay: relay.name, "relay name")
        return value


class AnalyticsSettings(_Section):
    """Click figures: what /r/ links record, how machines are told apart, how long raw rows stay."""

    # Off (the default), a click is only counted per issue, link, variant and hour. On, the
    # link also carries the subscriber (signed) and the click is kept against them: say so in
    # the privacy note before turning it on.
    per_subscriber: bool = False
    # Raw per-subscriber events older than this are folded into the hourly counts and deleted.
    retention_days: int = Field(default=90, ge=1, le=3650)
    # Clicks wait in memory for the writer; past this many the newest are dropped (and counted
    # in the log), so a slow or absent database never slows a redirect or fills the memory.
    queue_size: int = Field(default=100_000, ge=100, le=10_000_000)
    flush_seconds: float = Field(default=1.0, gt=0, le=60)
    # One client opening this many different links of one issue within burst_seconds is a
    # link scanner, not a reader: those clicks count as filtered. Scanners open every link in
    # a second or two; a reader opening three stories in tabs at once is still a reader.
    burst_links: int = Field(default=4, ge=2, le=100)
    burst_seconds: float = Field(default=3.0, gt=0, le=600)


class ScheduleSettings(_Section):
    """What `newsletter serve` runs by itself, and how it catches up after downtime."""

    # Collect every source (then rebuild changed feeds) this often.
    collect_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # How often approved issues are checked for a send time that has come ("Send now" waits
    # at most this long).
    send_poll_seconds: float = Field(default=15.0, gt=0, le=3600)
    # After downtime a missed build still runs once if the service is back within this long...
    build_grace_hours: float = Field(default=12.0, gt=0)
    # ... and an approved issue still goes out; later than that it is held and editors told.
    send_grace_hours: float = Field(default=12.0, gt=0)
    # One scheduler per database: its lease lasts this long and is renewed every third of it.
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    # A maildir or mbox of returned mail, or an IMAP folder (imaps://USER:PASS@HOST/INBOX),
    # read every bounce_minutes; unset: no bounce job.
    bounce_mailbox: str | None = None
    bounce_minutes: float = Field(default=10.0, gt=0, le=24 * 60)

    @field_validator("bounce_mailbox")
    @classmethod
    def _mailbox(cls, value: str | None) -> str | None:
        return checks.bounce_mailbox(value) if value else None


class Settings(BaseSettings):
    """Everything the service reads from its environment, checked once at start."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: str = "sqlite:///var/newsletter.db"
    smtp_url: str | None = None
    # Celery broker (redis://HOST:6379/0): set, `digest send` hands batches to `newsletter worker`.
    broker_url: str | None = None
    # Redis for rate limits shared by every sender; unset: the broker when it is Redis.
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    # Keys rotated out: they still verify the links already mailed, but never sign anything.
    secret_keys_previous: list[SecretStr] = Field(default_factory=list)
    var_dir: Path = Path("var")

    site: SiteSettings = Field(default_factory=SiteSettings)
    organization: OrganizationSettings = Field(default_factory=OrganizationSettings)
    topics: list[TopicSettings] = Field(default_factory=list)
    sources: list[SourceSettings] = Field(default_factory=list)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    collect: CollectSettings = Field(default_factory=CollectSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    subscribers: SubscriberSettings = Field(default_factory=SubscriberSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)

    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: arguments, NEWSLETTER_SECTION__KEY, the flat variables, the file, defaults.
        return (init_settings, env_settings, *file_and_flat_sources(settings_cls))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        return checks.database_url(value)

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            problem = checks.secret_key_problem(value.get_secret_value())
            if problem:
                raise ValueError(
                    f"the secret key {problem}; make one with {MAKE_SECRET}, "
                    "or leave it unset for a generated var/secret_key"
                )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        return checks.smtp_url(value) if value else None

    @field_validator("broker_url", "redis_url")
    @classmethod
    def _redis_like(cls, value: str | None) -> str | None:
        return checks.broker_url(value) if value else None

    @property
    def shared_redis_url(self) -> str | None:
        """Where rate limits shared by every worker live: redis_url, else a Redis broker."""
        if self.redis_url:
            return self.redis_url
        if self.broker_url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return None

    @field_validator("secret_keys_previous")
    @classmethod
    def _previous_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        # A short or guessable old key would let anyone forge links for as long as it is kept.
        if any(len(key.get_secret_value().encode()) < MIN_SECRET_BYTES for key in value):
            raise ValueError("every previous key must be at least 32 bytes long")
        return value

    @field_validator("topics")
    @classmethod
    def _unique_topics(cls, value: list[TopicSettings]) -> list[TopicSettings]:
        checks.unique(value, lambda topic: topic.slug, "topic slug")
        return value

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: list[SourceSettings]) -> list[SourceSettings]:
        seen: set[str] = set()
        for source in value:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} appears twice")
            if source.kind != "push" and source.url is None:
                raise ValueError(f"source {source.name!r} of kind {source.kind!r} needs a url")
            seen.add(source.name)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"
