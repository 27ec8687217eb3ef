"""Editors: accounts, roles and sign-in limits, the review rules on an issue, notices to editors."""
