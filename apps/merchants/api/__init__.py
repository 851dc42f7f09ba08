"""REST API (/api/v1/) of the merchants app."""
