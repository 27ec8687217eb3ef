"""Delivery: message building, the send engine behind a store and a pool, bounces.

The engine (batch.Sender) talks to a DeliveryStore (store.py: sql_store, memory_store) and to
each relay's Transport (newsletter/mail: SMTP, the outbox; MemoryTransport here) through a
ConnectionPool (pool.py); breaker.py pauses an issue the relay refuses wholesale, tally.py
counts progress; state.py moves the issue's status through newsletter/issue_status.py. Who may
be mailed is subscribers.audience.receives(), for planning and sending alike.
"""
