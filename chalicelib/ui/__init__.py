"""The flow page: a browser client of the public API, served as static files."""
