"""The scheduler: which stage runs when, one scheduler per database, kept on local time."""
