"""The audience: subscribers, their lifecycle, topics, tokens and suppression."""
