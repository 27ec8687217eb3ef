"""Engagement figures: clicks counted in aggregate, machines filtered, raw events folded away."""
