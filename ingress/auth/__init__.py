"""Authentication (JWT against a rotating JWKS) and authorization (roles, ownership)."""
