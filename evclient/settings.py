"""What a brand asks of its user: each setting ``connect()`` takes, declared once by the brand.

The command line's options and help, the diagnostics' redaction and an application's login form (the Home
Assistant example's config flow) are all built from these declarations, so a new brand needs no edit to any
of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from .auth import Secret
from .errors import InvalidInputError


@attrs.frozen(kw_only=True)
class Setting:
    """One keyword of ``connect(brand, ...)``.

    ``secret`` values never appear in logs, reprs or diagnostics; ``required`` ones are needed for a login
    from scratch (resuming from saved tokens may need fewer); ``resume`` marks a secret an application must
    keep besides the tokens (an app key, a security answer), whereas a password is asked for again instead;
    ``identity`` marks the setting that names the account (a username, a client id); ``choices`` and
    ``default`` describe the accepted values; ``advanced`` ones are for overriding what evclient knows.
    ``always`` ones are needed even to resume from tokens (CarData's client id); ``check`` turns a given value
    into the one kept (stripped, say) or raises ``InvalidInputError`` in the user's words. The declaration is
    the validation: :func:`read_settings` checks every keyword against it, so no brand writes a constructor.
    """

    name: str
    help: str
    secret: bool = False
    required: bool = False
    resume: bool = False
    identity: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None
    advanced: bool = False
    always: bool = False
    check: Callable[[str], str] | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def env(self) -> str:
        """The environment variable the command line reads it from."""
        return "EVCLIENT_" + self.name.upper()

    @property
    def option(self) -> str:
        """The command line's option for it."""
        return "--" + self.name.replace("_", "-")

    @property
    def kept(self) -> bool:
        """Whether an application stores it with the tokens (everything but a secret it can ask for again)."""
        return not self.secret or self.resume


USERNAME = Setting(name="username", help="the account's e-mail address or user name", required=True, identity=True)
PASSWORD = Setting(name="password", help="the account's password (asked for when missing)", secret=True,
                   required=True)


class Settings(Mapping[str, "str | Secret"]):
    """One account's values of its brand's settings, checked against their declarations: secret ones held as
    :class:`~evclient.auth.Secret`, left-out ones absent (or at their declared default)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str | Secret]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> str | Secret:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def text(self, name: str) -> str | None:
        """A plain setting's value (``None`` when not given and without a default)."""
        value = self._values.get(name)
        return value.reveal() if isinstance(value, Secret) else value

    def secret(self, name: str) -> Secret | None:
        """A secret setting's value, still wrapped."""
        value = self._values.get(name)
        return Secret(value) if isinstance(value, str) else value

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}=**" if isinstance(v, Secret) else f"{k}={v!r}" for k, v in self._values.items())
        return f"Settings({shown})"


def read_settings(brand: str, declared: Sequence[Setting], given: Mapping[str, Any]) -> Settings:
    """``given`` (``connect()``'s keywords) checked against the brand's declarations: unknown names, values
    that are not non-empty text, values outside ``choices`` and what a ``check`` refuses raise
    :class:`~evclient.errors.InvalidInputError` before any request; ``None`` counts as left out."""
    by_name = {s.name: s for s in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        takes = ", ".join(by_name) or "no settings"
        raise InvalidInputError(f"{brand} does not take {', '.join(unknown)} (it takes {takes})")
    values: dict[str, str | Secret] = {}
    for setting in declared:
        value = given.get(setting.name)
        if value is None:
            value = setting.default
        if value is None:
            if setting.always:
                raise InvalidInputError(f"{brand} needs {setting.name}: {setting.help}")
            continue
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"{setting.name} must be a non-empty string")
        if setting.check is not None:
            value = setting.check(value)
        if setting.choices and value not in setting.choices:
            raise InvalidInputError(f"{setting.name} must be one of {', '.join(setting.choices)}, got {value!r}")
        values[setting.name] = Secret(value) if setting.secret else value
    return Settings(values)
