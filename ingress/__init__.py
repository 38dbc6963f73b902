"""The HTTP edge of Tessera: granian-served ASGI app writing commands to Kafka.

Entry points: `ingress.server:main(settings, metrics_port=None)` serves on
settings.ingress_port (with /metrics on the same port); `ingress.app:create_app` builds the
ASGI app; `ingress.auth.token_cli:add_token_command` / `mint_token` mint development JWTs.
Shared ids: `schemas.command_ids` (command id and booking id derivation, also used by partners).
"""
