"""REST API (/api/v1/) of the distributors app."""
