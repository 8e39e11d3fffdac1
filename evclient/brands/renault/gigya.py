"""The Gigya accounts API as MyRenault uses it: login, account info, JWTs, the device identity and e-mail 2FA.

Each call is one request on the ``gigya`` server, through the account's scheduler. Gigya answers errors
with HTTP 200 and an ``errorCode`` in the body; :mod:`.errors` decodes them, except the login's
"two-factor pending" (403101 / 403102), which :func:`login` returns for the auth to act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ...auth import CodeDestination, Secret
from ...brand import Api
from ...errors import ResponseError
from ...transport import Request
from .locales import Locale

#: accounts.login's answers that mean "a one-time code is needed".
TWO_FACTOR_PENDING = {403101, 403102}


@attrs.frozen
class Device:
    """The device identity Gigya remembers after two-factor login (the ``gmid`` / ``ucid`` cookies)."""

    gmid: Secret
    ucid: Secret

    def cookies(self) -> dict[str, str]:
        return {"gmid": self.gmid.reveal(), "ucid": self.ucid.reveal()}


@attrs.frozen
class TwoFactorEmail(CodeDestination):
    """An address a code can be sent to: its ``id`` and how Gigya shows it (``e***@example.com``)."""


async def _call(api: Api, locale: Locale, method: str, name: str, fields: Mapping[str, Any],
                device: Device | None = None, *, label: str | None = None) -> Any:
    payload = {"ApiKey": locale.gigya_api_key, **{k: str(v) for k, v in fields.items()}}
    request = Request(
        method=method, server="gigya", path=f"/{name}", endpoint=label or f"gigya {name}", authenticated=False,
        data=payload if method == "POST" else None, params=payload if method == "GET" else None,
        cookies=device.cookies() if device else {}, idempotent=False,
    )
    body = (await api.request(request)).json()
    if not isinstance(body, dict):
        raise ResponseError(f"gigya {name}: the answer is not an object", endpoint=request.endpoint)
    return body


async def bootstrap(api: Api, locale: Locale) -> Device:
    """``accounts.webSdkBootstrap``: a new device identity."""
    response = await api.request(Request(
        method="GET", server="gigya", path="/accounts.webSdkBootstrap", endpoint="gigya accounts.webSdkBootstrap",
        authenticated=False, params={"APIKey": locale.gigya_api_key},
    ))
    gmid, ucid = response.cookies.get("gmid"), response.cookies.get("ucid")
    if not gmid or not ucid:
        raise ResponseError("gigya accounts.webSdkBootstrap set no gmid / ucid cookies",
                            endpoint="gigya accounts.webSdkBootstrap")
    return Device(Secret(gmid), Secret(ucid))


async def login(api: Api, locale: Locale, username: str, password: Secret, device: Device) -> dict[str, Any]:
    """``accounts.login``: the answer, with a login token or a pending two-factor ``regToken``."""
    body: dict[str, Any] = await _call(api, locale, "POST", "accounts.login",
                                       {"loginID": username, "password": password.reveal()}, device, label="login")
    return body


def login_token(body: Mapping[str, Any]) -> Secret:
    return Secret(str(body["sessionInfo"]["cookieValue"]))


async def person_id(api: Api, locale: Locale, token: Secret) -> str:
    """``accounts.getAccountInfo``: the Kamereon person id."""
    body = await _call(api, locale, "POST", "accounts.getAccountInfo", {"login_token": token.reveal()})
    return parse_person_id(body)


def parse_person_id(body: Mapping[str, Any]) -> str:
    return str(body["data"]["personId"])


async def jwt(api: Api, locale: Locale, token: Secret) -> str:
    """``accounts.getJWT``: a 15-minute JWT for Kamereon."""
    body = await _call(api, locale, "POST", "accounts.getJWT", {
        "login_token": token.reveal(), "fields": "data.personId,data.gigyaDataCenter", "expiration": 900,
    }, label="jwt")
    return parse_jwt(body)


def parse_jwt(body: Mapping[str, Any]) -> str:
    return str(body["id_token"])


async def init_tfa(api: Api, locale: Locale, reg_token: Secret, device: Device) -> Secret:
    body = await _call(api, locale, "GET", "accounts.tfa.initTFA", {
        "regToken": reg_token.reveal(), "provider": "gigyaEmail", "mode": "verify", **device.cookies(),
    }, device)
    return Secret(str(body["gigyaAssertion"]))


async def tfa_emails(api: Api, locale: Locale, assertion: Secret, device: Device) -> list[TwoFactorEmail]:
    body = await _call(api, locale, "GET", "accounts.tfa.email.getEmails", {"gigyaAssertion": assertion.reveal()},
                       device)
    emails = body.get("emails") or []
    return [TwoFactorEmail(str(e["id"]), str(e.get("obfuscated") or "")) for e in emails if e.get("id")]


async def send_code(api: Api, locale: Locale, assertion: Secret, email_id: str, device: Device) -> Secret:
    body = await _call(api, locale, "GET", "accounts.tfa.email.sendVerificationCode", {
        "gigyaAssertion": assertion.reveal(), "emailID": email_id, "lang": locale.language,
    }, device)
    return Secret(str(body["phvToken"]))


async def complete(api: Api, locale: Locale, assertion: Secret, phv_token: Secret, code: str,
                   device: Device) -> Secret:
    body = await _call(api, locale, "GET", "accounts.tfa.email.completeVerification", {
        "gigyaAssertion": assertion.reveal(), "phvToken": phv_token.reveal(), "code": code,
    }, device, label="gigya two-factor code")
    return Secret(str(body["providerAssertion"]))


async def finalize(api: Api, locale: Locale, assertion: Secret, provider_assertion: Secret, reg_token: Secret,
                   remember: bool, device: Device) -> None:
    await _call(api, locale, "GET", "accounts.tfa.finalizeTFA", {
        "gigyaAssertion": assertion.reveal(), "providerAssertion": provider_assertion.reveal(),
        "regToken": reg_token.reveal(), "tempDevice": "false" if remember else "true",
    }, device)
