"""The one exception hierarchy of the runtime.

::

    RoundtableError                 base of everything the runtime raises on purpose
    ├── ConfigurationError          a constructor or builder got arguments that cannot work
    │   └── AddressNotAllowed       a connection would reach an address the network guard refuses
    ├── ComponentError              a component file could not be loaded or dumped (names the path)
    │   └── UnsupportedProviderError  its provider is unknown, or known and not supported
    ├── ModelClientError            a model provider call failed after retries
    │   └── ModelResponseError      the provider answered with something unusable
    ├── ToolError                   a tool could not be defined or registered
    ├── TeamError                   a team was used wrongly (already running, bad state, ...)
    │   └── StateError              save_state/load_state got data it cannot use
    └── InputError                  the human input function failed

Agent and tool exceptions that escape a run are re-raised with their original type; they
are not wrapped, so callers can catch what they know.
"""

from __future__ import annotations


class RoundtableError(Exception):
    """Base class of every error the runtime raises on purpose."""


class ConfigurationError(RoundtableError, ValueError):
    """Arguments that cannot work together; the message says which and how to fix them."""


class AddressNotAllowed(ConfigurationError):
    """A connection would go to a private, loopback or reserved address that is not allowed.

    Raised by :class:`runtime.NetworkGuard` before any byte is sent; never retried.
    """


class ComponentError(RoundtableError, ValueError):
    """A component document could not be loaded or dumped.

    ``path`` is where in the document the problem sits, for example
    ``config.participants[1].config.model_client``.
    """

    def __init__(
        self, message: str, *, path: str = "", component: str = "", reason: str = ""
    ) -> None:
        self.path = path
        self.component = component
        #: what is wrong, without the component's name and path (for reports that show those)
        self.reason = reason or message
        where = f" at {path}" if path else ""
        super().__init__(f"{message}{where}")


class UnsupportedProviderError(ComponentError):
    """A component's ``provider`` is not in the registry, or is one it refuses on purpose.

    ``path`` is the component's path; ``provider`` is the string the file gave.
    """

    def __init__(
        self, message: str, *, provider: str, path: str = "", component: str = "", reason: str = ""
    ) -> None:
        self.provider = provider
        super().__init__(message, path=path, component=component, reason=reason)


class ModelClientError(RoundtableError):
    """A model provider call failed for good (after the allowed retries).

    ``status_code`` is the provider's HTTP status when there was one.
    """

    def __init__(self, message: str, *, status_code: int | None = None, provider: str = "") -> None:
        self.status_code = status_code
        self.provider = provider
        super().__init__(message)


class ModelResponseError(ModelClientError):
    """The provider answered, but the answer cannot be used (no content, wrong shape)."""


class ToolError(RoundtableError, ValueError):
    """A tool could not be built from a function, or a registry was misused."""


class TeamError(RoundtableError, RuntimeError):
    """A team was used in a way its lifecycle does not allow."""


class StateError(TeamError, ValueError):
    """Saved state does not fit the team or agent it is loaded into."""


class InputError(RoundtableError, RuntimeError):
    """The human input function failed; the original error is the ``__cause__``."""
