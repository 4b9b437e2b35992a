"""Email, SMS, merge tags and phone numbers."""
