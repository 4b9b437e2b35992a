"""The engine: queue messages, the step protocol, waits and fan-out."""
