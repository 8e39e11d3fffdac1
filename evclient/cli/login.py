"""The CLI's side of a login that needs the user: the e-mailed code, typed at the terminal."""

from __future__ import annotations

import sys
import time

from ..account import Account
from ..auth import CodeChallenge, DeviceCodeChallenge
from ..errors import AuthenticationError, InvalidInputError, TwoFactorCodeRejected, TwoFactorRequired

#: Codes a user may mistype before the CLI gives up (the server allows a few more).
CODE_ATTEMPTS = 3


def interactive() -> bool:
    return sys.stdin.isatty()


def ask(prompt: str) -> str:
    return input(prompt)


async def two_factor(required: TwoFactorRequired) -> Account:
    """Walk the user through the login's challenge: a device approval (show the link and code, wait), or an
    e-mailed code (choose the address, send, type it, again if mistyped)."""
    challenge = required.challenge
    if isinstance(challenge, DeviceCodeChallenge):
        return await device_login(challenge)
    if not isinstance(challenge, CodeChallenge):
        raise required
    try:
        if not interactive():
            raise TwoFactorRequired("this login needs the code the server e-mails; run the command in a terminal "
                                    "once (the device is then remembered)", None)
        addresses = await challenge.destinations()
        if not addresses:
            raise AuthenticationError("the server offers no address to send a code to")
        chosen = addresses[0]
        if len(addresses) > 1:
            for n, address in enumerate(addresses, 1):
                print(f"  {n}. {address.masked}")
            answer = ask("send the code to which address? ").strip()
            if not answer.isdigit() or not 1 <= int(answer) <= len(addresses):
                raise InvalidInputError(f"choose 1 to {len(addresses)}")
            chosen = addresses[int(answer) - 1]
        await challenge.send_code(chosen.id)
        print(f"A code was e-mailed to {chosen.masked}.")
        for attempt in range(1, CODE_ATTEMPTS + 1):
            try:
                account: Account = await challenge.complete(ask("code: "))
                return account
            except (TwoFactorCodeRejected, InvalidInputError) as err:
                if attempt == CODE_ATTEMPTS:
                    raise
                text = str(err)
                print(text if "try again" in text else f"{text}; try again")
        raise AssertionError("unreachable")
    except BaseException:
        await challenge.close()
        raise


async def device_login(challenge: DeviceCodeChallenge) -> Account:
    """Show where to approve this device, then wait for the approval (no terminal needed)."""
    minutes = max(1, round((challenge.expires_at - time.time()) / 60))
    link = challenge.verification_uri_complete or challenge.verification_uri
    print(f"To log in, open {link}", flush=True)
    print(f"and enter the code {challenge.user_code} (it expires in about {minutes} min). Waiting …", flush=True)
    try:
        account = await challenge.wait()
    except BaseException:
        await challenge.close()
        raise
    print("Logged in.", flush=True)
    return account
