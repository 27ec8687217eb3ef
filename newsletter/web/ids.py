"""Row ids as URLs carry them: numbers the id columns hold, else 422 before any query runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

# The id columns are INTEGER: 32 bits on PostgreSQL (SQLite's are wider). A larger number in a
# URL would reach the driver and fail there, as a server error.
MAX_ID = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
# A keyset page's start ("older than this id").
Before = Annotated[int | None, Query(ge=1, le=MAX_ID)]
