"""Delivery: message building, SMTP transport, the resumable send loop, bounces."""
