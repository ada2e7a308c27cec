"""Policyholder pages."""
