"""The weekly digest: compose (which posts), render (Jinja2, premailer), text part, variants."""
