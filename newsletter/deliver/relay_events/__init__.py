"""Relay services' webhooks read as bounce findings: one module per provider, sns.py for SES's."""
