"""Persistence: the PynamoDB models and the functions that read and write them.

Only this package imports pynamodb (STYLE.md 4); it hands plain domain data up.
"""
