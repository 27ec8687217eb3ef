"""Outbound webhooks: subscriber and issue events, signed per Standard Webhooks, retried."""
