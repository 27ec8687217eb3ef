"""Editors: accounts, roles and sign-in for the review screens."""
