"""What arrives from outside and moves contacts into or through flows (SPEC.md §2 and §6):
triggers fired by changes, tracked links, forms, opens, unsubscribes and SES bounces."""
