"""The pipeline: where each stage reads what the stage before it stored, one module per join."""
