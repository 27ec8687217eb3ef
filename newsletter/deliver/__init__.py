"""Delivery: message building, transports, the send engine behind a store and a pool, bounces.

The engine (batch.Sender) talks to a DeliveryStore (store.py: sql_store, memory_store) and to
each relay's Transport (transport.py: SMTP, the outbox, MemoryTransport) through a
ConnectionPool (pool.py); breaker.py pauses an issue the relay refuses wholesale, tally.py
counts progress. Who may be mailed is subscribers.audience.receives(), for planning and sending.
"""
