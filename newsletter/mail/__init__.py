"""The mail transports the runtime hands out: SMTP (pipelined exchange) and the outbox folder."""
