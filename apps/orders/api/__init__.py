"""REST API (/api/v1/) of the orders app."""
