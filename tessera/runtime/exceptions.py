class RuntimeSetupError(Exception):
    """Something the local runtime needs is missing; the message says what to do."""


class ComponentStartError(RuntimeSetupError):
    """A component was started but never became healthy."""


class PortInUseError(RuntimeSetupError):
    """A port Tessera wants is taken by a process Tessera did not start."""
