"""Collect: fetch each source (RSS/Atom, JSON Feed, WordPress REST, HTML pages, pushes) and store.

fetch.py and guard.py bound and vet every request; one module reads each kind into RawItems;
normalize.py makes them posts; store.py deduplicates; run.py runs the sources, each alone.
"""
