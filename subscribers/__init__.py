"""The audience: subscribers, their lifecycle, topics, tokens and suppression, and CSV in and out.

It imports only the service's core (newsletter.db, newsletter.bulk, newsletter.errors): its
errors have one root (errors.SubscribersError), every change of state goes through
lifecycle.ALLOWED, and topics cross its boundary as slugs (topics.Topics translates them).
CSV: csv_parse (rows → records, no database) → bulk_store (batches via the lifecycle), joined
by csv_import; csv_export and the parser share cells (formula neutralising). operator: what
the operator does directly (add one subscriber, list the newest), for `newsletter subscribers`.
"""
