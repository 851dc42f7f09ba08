"""REST API (/api/v1/) of the commissions app."""
