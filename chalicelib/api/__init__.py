"""The HTTP edge: request/response models, problem+json errors, routing, OpenAPI."""
