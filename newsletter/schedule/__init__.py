"""The scheduler: which pipeline use case runs when, one scheduler per database, on local time."""
