"""REST API (/api/v1/) of the products app."""
