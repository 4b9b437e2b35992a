"""The engine's collaborators, chosen once per process: the clock and the SQS delay limit.

Production uses the defaults; the local stack and tests replace the clock with one they move
(STYLE.md 3: inject, don't patch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.clock import Clock, utc_now
from chalicelib.messaging.senders import (
    EmailSender,
    LambdaScripts,
    ScriptInvoker,
    SesEmail,
    SmsSender,
    SnsSms,
)
from chalicelib.settings import get_settings

# SQS's DelaySeconds ceiling; longer waits go through a Scheduler wake bucket.
SQS_MAX_DELAY_S = 900
# How many times a step message is tried before the participant drops out (the queues'
# maxReceiveCount is one more, so the last try's own failure still reaches the DLQ).
MAX_TRIES = 4
# Fan-out jobs stop and post their own continuation after this many pages.
PAGES_PER_JOB = 10
PAGE_SIZE = 100
# A chain of flows enrolling each other stops at this depth (SPEC.md §2).
MAX_CHAIN_DEPTH = 10


@dataclass
class Runtime:
    clock: Clock = utc_now
    delay_limit_s: int = field(
        default_factory=lambda: min(get_settings().sqs_delay_limit_s, SQS_MAX_DELAY_S)
    )
    sms: SmsSender = field(default_factory=SnsSms)
    email: EmailSender = field(default_factory=SesEmail)
    scripts: ScriptInvoker = field(default_factory=LambdaScripts)


runtime = Runtime()
