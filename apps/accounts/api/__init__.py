"""REST API (/api/v1/) of the accounts app."""
