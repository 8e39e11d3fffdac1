"""What a brand asks of its user: each setting ``connect()`` takes, declared once by the brand.

The command line's options and help, the diagnostics' redaction and an application's login form (the Home
Assistant example's config flow) are all built from these declarations, so a new brand needs no edit to any
of them.
"""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class Setting:
    """One keyword of ``connect(brand, ...)``.

    ``secret`` values never appear in logs, reprs or diagnostics; ``required`` ones are needed for a login
    from scratch (resuming from saved tokens may need fewer); ``resume`` marks a secret an application must
    keep besides the tokens (an app key, a security answer), whereas a password is asked for again instead;
    ``identity`` marks the setting that names the account (a username, a client id); ``choices`` and
    ``default`` describe the accepted values; ``advanced`` ones are for overriding what evclient knows.
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
