"""REST API (/api/v1/) of the payments app."""
