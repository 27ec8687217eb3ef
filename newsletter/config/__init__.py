"""Settings: the schema (schema.py, checks.py) and loading it (load.py, sources.py); no I/O but
reading the environment and newsletter.toml. `from newsletter.config import ...` names them all.
"""

from newsletter.config.checks import (
    MAKE_SECRET,
    MIN_SECRET_BYTES,
    mask_credentials,
    mask_url,
    secret_key_problem,
    trusted_proxies,
)
from newsletter.config.load import load_settings
from newsletter.config.schema import (
    AdminSettings,
    CollectSettings,
    DeliverySettings,
    DigestSettings,
    FeedSettings,
    MailSettings,
    OrganizationSettings,
    RelaySettings,
    ScheduleSettings,
    SelectorSettings,
    Settings,
    SiteSettings,
    SourceSettings,
    SubscriberSettings,
    TopicSettings,
    WebhookSettings,
    WebSettings,
)
from newsletter.config.sources import DEFAULT_CONFIG_FILE, ENV_PREFIX, FLAT_ENV, config_path
from newsletter.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "FLAT_ENV",
    "MAKE_SECRET",
    "MIN_SECRET_BYTES",
    "AdminSettings",
    "CollectSettings",
    "ConfigError",
    "DeliverySettings",
    "DigestSettings",
    "FeedSettings",
    "MailSettings",
    "OrganizationSettings",
    "RelaySettings",
    "ScheduleSettings",
    "SelectorSettings",
    "Settings",
    "SiteSettings",
    "SourceSettings",
    "SubscriberSettings",
    "TopicSettings",
    "WebSettings",
    "WebhookSettings",
    "config_path",
    "load_settings",
    "mask_credentials",
    "mask_url",
    "secret_key_problem",
    "trusted_proxies",
]
