"""Flow definitions, their validation ("problems") and their lifecycle."""
