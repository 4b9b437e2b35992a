"""Flows: a multi-tenant, serverless engine for marketing-automation flows."""
