"""Who is calling: the verified subject and roles, and what each role may see or set."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    USER = "USER"  # creates, views and cancels own bookings
    PARTNER = "PARTNER"  # creates on behalf of users; sees and cancels what it created
    SUPPORT = "SUPPORT"  # views everything, refunds
    ADMIN = "ADMIN"  # everything, plus inventory


ALL_ROLES = frozenset(Role)
PRIVILEGED = frozenset({Role.SUPPORT, Role.ADMIN})  # may view any booking


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[Role]
    expires_at: float

    def has(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def privileged(self) -> bool:
        return not self.roles.isdisjoint(PRIVILEGED)


def can_access(
    principal: Principal, owner: str, created_by: str | None, *, admin_only: bool = False
) -> bool:
    """Ownership rule: privileged roles see every booking (ADMIN alone when admin_only),
    a USER only their own, a PARTNER those it created. Anything else answers 404."""
    if principal.has(Role.ADMIN) or (principal.privileged and not admin_only):
        return True
    if principal.has(Role.USER) and owner == principal.sub:
        return True
    return principal.has(Role.PARTNER) and created_by == principal.sub
