"""evclient: an asyncio client for electric cars' cloud APIs that never gets the owner's account throttled.

Start with :func:`connect`; everything an application needs is re-exported here.
"""

from .account import Account, Budget, CommandNotSupported, TokensListener
from .auth import CodeChallenge, CodeDestination, DeviceCodeChallenge, LoginChallenge, Secret
from .brand import Brand, VehicleInfo
from .brands import register as register_brand
from .clock import Clock
from .command import CommandHandle, CommandResult, CommandSpec, StatusChange, Submission
from .connect import connect
from .delays import AdaptiveDelays, CommandTrace, DelayPolicy, GrowingDelays, Outcome
from .endpoint import Endpoint, EndpointSpec
from .errors import (
    AccountClosed,
    AuthenticationError,
    BudgetExhausted,
    CommandCancelled,
    CommandFailed,
    CommandTimedOut,
    ConnectionFailed,
    EVClientError,
    InvalidCredentialsError,
    InvalidInputError,
    NotSupportedError,
    PrivacyModeError,
    QuotaExceeded,
    RateLimited,
    RedirectRefused,
    RequestTimeout,
    ResourceGone,
    ResponseError,
    ServerError,
    SessionClosed,
    TemporaryError,
    TwoFactorCodeRejected,
    TwoFactorExpired,
    TwoFactorRequired,
)
from .events import EventBus
from .redact import redact
from .scheduler import BudgetStatus, Priority, Window, WindowUsage, within
from .settings import Setting
from .status import ChargeState, GeoPosition, PlugState, VehicleStatus, changed_fields
from .streams import StreamEnded, StreamSink, StreamState
from .transport import Timeouts
from .vehicle import Source, Vehicle

__version__ = "0.2.0"

__all__ = [
    "Account",
    "AccountClosed",
    "AdaptiveDelays",
    "AuthenticationError",
    "Brand",
    "Budget",
    "BudgetExhausted",
    "BudgetStatus",
    "ChargeState",
    "Clock",
    "CodeChallenge",
    "CodeDestination",
    "CommandCancelled",
    "CommandFailed",
    "CommandHandle",
    "CommandNotSupported",
    "CommandResult",
    "CommandSpec",
    "CommandTimedOut",
    "CommandTrace",
    "ConnectionFailed",
    "DelayPolicy",
    "DeviceCodeChallenge",
    "EVClientError",
    "Endpoint",
    "EndpointSpec",
    "EventBus",
    "GeoPosition",
    "GrowingDelays",
    "InvalidCredentialsError",
    "InvalidInputError",
    "LoginChallenge",
    "NotSupportedError",
    "Outcome",
    "PlugState",
    "Priority",
    "PrivacyModeError",
    "QuotaExceeded",
    "RateLimited",
    "RedirectRefused",
    "RequestTimeout",
    "ResourceGone",
    "ResponseError",
    "Secret",
    "ServerError",
    "SessionClosed",
    "Setting",
    "Source",
    "StatusChange",
    "StreamEnded",
    "StreamSink",
    "StreamState",
    "Submission",
    "TemporaryError",
    "Timeouts",
    "TokensListener",
    "TwoFactorCodeRejected",
    "TwoFactorExpired",
    "TwoFactorRequired",
    "Vehicle",
    "VehicleInfo",
    "VehicleStatus",
    "Window",
    "WindowUsage",
    "__version__",
    "changed_fields",
    "connect",
    "redact",
    "register_brand",
    "within",
]
