"""On-demand prices in us-east-1 that the cost benchmark uses, with where each comes from.

Taken from the AWS pricing pages below as they stood in 2025 (DynamoDB after the on-demand
price cut of 1 November 2024). This machine has no network, so they were not re-read on the day
the benchmark ran: check the pages before quoting a figure. Free tiers are ignored (a product at
scale is past them), and so is the tiered discount at very high volume.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2025 (us-east-1, on-demand, no free tier)"


@dataclass(frozen=True)
class Price:
    usd: float
    per: str
    source: str


PRICES: dict[str, Price] = {
    "dynamodb_write_unit": Price(
        0.625 / 1e6,
        "write request unit (1 KB; 2 in a transaction)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "dynamodb_read_unit": Price(
        0.125 / 1e6,
        "read request unit (4 KB strongly consistent; 2 eventually consistent reads)",
        "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    ),
    "sqs_request": Price(
        0.40 / 1e6,
        "standard queue request (each 64 KB chunk of a payload is one)",
        "https://aws.amazon.com/sqs/pricing/",
    ),
    "lambda_request": Price(0.20 / 1e6, "invocation", "https://aws.amazon.com/lambda/pricing/"),
    "lambda_arm_gb_second": Price(
        0.0000133334,
        "GB-second on arm64 (first 7.5 billion a month)",
        "https://aws.amazon.com/lambda/pricing/",
    ),
    "scheduler_invocation": Price(
        1.00 / 1e6,
        "EventBridge Scheduler invocation (schedule create/delete calls are not billed)",
        "https://aws.amazon.com/eventbridge/pricing/",
    ),
    "step_functions_transition": Price(
        25.0 / 1e6,
        "Step Functions Standard state transition",
        "https://aws.amazon.com/step-functions/pricing/",
    ),
    "ses_email": Price(
        0.10 / 1000, "email sent through SES (provider fee)", "https://aws.amazon.com/ses/pricing/"
    ),
    "sms_us": Price(
        0.00581,
        "SMS to a US number through End User Messaging, before carrier fees (provider fee)",
        "https://aws.amazon.com/end-user-messaging/pricing/",
    ),
    "api_gateway_rest_request": Price(
        3.50 / 1e6,
        "REST API request (the first 333 million a month)",
        "https://aws.amazon.com/api-gateway/pricing/",
    ),
}


def usd(name: str, quantity: float) -> float:
    return PRICES[name].usd * quantity


def sources() -> list[str]:
    """One line per price: the name, the rate and its source."""
    return [f"  {name}: ${p.usd:.10g} per {p.per} — {p.source}" for name, p in PRICES.items()]
