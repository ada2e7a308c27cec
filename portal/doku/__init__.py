"""DOKU's non-SNAP protocol for Alfa Group O2O payments, in pure Python.

Nothing here imports Flask, SQLAlchemy or the rest of ``portal``: the signature recipe, the
message schemas and the status codes are tested on their own against DOKU's vectors.
"""
