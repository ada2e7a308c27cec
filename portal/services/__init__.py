"""Business rules as plain functions: explicit arguments, domain errors, flush but never commit."""
