"""Transport, retries, re-authentication, error typing, sessions and secrets — over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest

import evclient
from evclient import (
    AuthenticationError,
    ConnectionFailed,
    InvalidCredentialsError,
    RateLimited,
    RequestTimeout,
    ResponseError,
    ServerError,
    Timeouts,
)
from tests.testcloud import PASSWORD, Fault


async def car_of(account):
    return (await account.vehicles())[0]


async def test_a_read_recovers_from_passing_server_errors_and_each_retry_is_counted(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        used = account.budget.windows[0].used
        cloud.fail("data", Fault(status=500), Fault(status=502, raw=b"<html>Bad Gateway</html>"))
        value = await car.refresh("e1")
        assert value.value == 1
        assert cloud.count("data") == 3
        assert account.budget.windows[0].used == used + 3


async def test_retries_stop_after_two_and_the_error_is_typed(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.fail("data", *(Fault(status=503) for _ in range(3)))
        with pytest.raises(ServerError) as info:
            await car.refresh("e1")
        assert info.value.status == 503
        assert cloud.count("data") == 3
        assert isinstance(car.endpoints["e1"].last_error, ServerError)


async def test_commands_are_not_retried(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.fail("submit", Fault(status=500))
        with pytest.raises(ServerError):
            await car.command("flash")
        assert cloud.count("submit") == 1


async def test_timeouts_are_typed_and_bounded(cloud):
    loop = asyncio.get_running_loop()
    async with cloud.connect("solo", timeouts=Timeouts(connect=5, total=10)) as account:
        car = await car_of(account)
        cloud.fail("data", *(Fault(status=200, delay=60) for _ in range(3)))
        started = loop.time()
        with pytest.raises(RequestTimeout):
            await car.refresh("e1")
        # three tries of 10 s, with 2 s and 4 s of backoff between them
        assert loop.time() - started == pytest.approx(36, abs=2)


async def test_malformed_and_wrongly_shaped_bodies_are_bad_responses_naming_the_endpoint(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.fail("data", Fault(status=200, raw=b'{"name": "e1", "val'))
        with pytest.raises(ResponseError, match="e1"):
            await car.refresh("e1")
        cloud.fail("data", Fault(status=200, body={"unexpected": True}))
        with pytest.raises(ResponseError, match="e2"):
            await car.refresh("e2")
        cloud.fail("data", Fault(status=200, raw=b""))
        with pytest.raises(ResponseError, match="empty"):
            await car.refresh("e3")
        cloud.fail("data", Fault(status=200, body={"name": "e4", "value": "many"}))
        with pytest.raises(ResponseError):
            await car.refresh("e4")


async def test_a_dropped_connection_is_retried_then_typed(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.fail("data", Fault(drop=True))
        assert (await car.refresh("e1")).value == 1
        cloud.fail("data", *(Fault(drop=True) for _ in range(3)))
        with pytest.raises(ConnectionFailed):
            await car.refresh("e2")


async def test_connection_refused_is_a_connection_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    servers = {"api": f"http://127.0.0.1:{port}/api", "auth": f"http://127.0.0.1:{port}/auth"}
    with pytest.raises(ConnectionFailed):
        await evclient.connect("test", servers=servers, username="solo", password=PASSWORD)


async def test_a_revoked_token_triggers_one_refresh_then_the_retry(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.revoked.add(account.tokens["token"])
        assert (await car.refresh("e1")).value == 1
        assert cloud.count("refresh") == 1
        assert cloud.count("login") == 1


async def test_token_expiry_is_handled_before_it_happens(cloud):
    cloud.token_lifetime = 600
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        await account.start()
        await asyncio.sleep(3600)
    # Renewed at the first request past exp - 60 s: every 9 to 10 minutes, with no 401 on the way.
    assert 5 <= cloud.count("refresh") <= 6
    assert all(e.status != 401 and e.status != 0 for e in cloud.log)
    assert car.endpoints["e1"].value is not None


async def test_a_refused_refresh_falls_back_to_the_password(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.revoked.add(account.tokens["token"])
        cloud.revoked.add(account.tokens["refresh_token"])
        await car.refresh("e1")
        assert cloud.count("login") == 2


async def test_wrong_password_is_invalid_credentials_and_is_never_retried_alone(cloud):
    with pytest.raises(InvalidCredentialsError):
        await cloud.connect("solo", password="wrong")
    assert cloud.count("login") == 1

    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.revoked.add(account.tokens["token"])
        cloud.revoked.add(account.tokens["refresh_token"])
        account.auth._password = evclient.Secret("changed-since")  # the password changed elsewhere
        logins = cloud.count("login")
        for _ in range(3):
            with pytest.raises(AuthenticationError):
                await car.refresh("e1")
        await account.start()
        await asyncio.sleep(3600)
        # One failed login, then nothing until the application logs in again.
        assert cloud.count("login") == logins + 1
        account.auth._password = evclient.Secret(PASSWORD)
        await account.login()
        assert (await car.refresh("e1")).value >= 1


async def test_tokens_resume_an_account_without_the_password(cloud):
    async with cloud.connect("solo") as account:
        tokens = account.tokens
    assert tokens["brand"] == "test"
    async with evclient.connect("test", servers=cloud.servers(), tokens=tokens) as again:
        car = await car_of(again)
        assert (await car.refresh("e1")).value == 1
    assert cloud.count("login") == 1
    with pytest.raises(evclient.InvalidInputError):
        evclient.connect("test", servers=cloud.servers(), tokens=tokens, colour="red")
    with pytest.raises(evclient.InvalidInputError):
        evclient.connect("nonesuch")


async def test_429_with_retry_after_pauses_and_types_the_error(cloud):
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        cloud.fail("data", Fault(status=429, headers={"Retry-After": "120"}))
        with pytest.raises(RateLimited) as info:
            await car.refresh("e1")
        assert info.value.retry_after == 120
        assert account.budget.paused
        await asyncio.sleep(121)
        assert (await car.refresh("e1")).value == 1


async def test_an_injected_session_is_never_closed_and_an_owned_one_is(cloud):
    async with aiohttp.ClientSession() as session:
        async with cloud.connect("solo", session=session) as account:
            await account.vehicles()
        assert not session.closed
    account = await cloud.connect("solo")
    await account.vehicles()
    owned = account.pipeline.transport._own_session
    await account.close()
    assert owned is not None
    assert owned.closed


async def test_no_secret_reaches_logs_reprs_or_errors(cloud, caplog):
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    async with cloud.connect("solo") as account:
        car = await car_of(account)
        await car.refresh("e1")
        await car.refresh("history", begin="1016", end="1216")
        await car.command("flash")
        cloud.revoked.add(account.tokens["token"])
        await car.refresh("e2")
        cloud.fail("data", Fault(status=500, body={"error": PASSWORD}))
        cloud.fail("data", Fault(status=500, body={"error": PASSWORD}))
        cloud.fail("data", Fault(status=500, body={"error": PASSWORD}))
        with pytest.raises(ServerError) as info:
            await car.refresh("e3")
        errors.append(info.value)
        tokens = account.tokens
        session = account.session
        shown = [repr(account), repr(car), repr(session), repr(session.settings), repr(car.endpoints["e1"]),
                 str(account.budget)]
    with pytest.raises(InvalidCredentialsError) as info:
        await cloud.connect("solo", password="a-wrong-secret")
    errors.append(info.value)
    secrets = [PASSWORD, "a-wrong-secret", tokens["token"], tokens["refresh_token"], "VF1SLXXXX00000001"]
    ours = [r for r in caplog.records if r.name.startswith("evclient")]  # not the test server's access log
    texts = [record.getMessage() for record in ours] + shown + [str(e) for e in errors]
    assert len(ours) > 10
    for secret in secrets:
        for text in texts:
            assert secret not in text


@pytest.mark.parametrize("route", ["login", "list", "submit"])
async def test_a_wrongly_shaped_answer_anywhere_is_a_bad_response(cloud, route):
    cloud.fail(route, Fault(status=200, body={"nothing": "useful"}))

    async def use_the_account() -> None:
        async with cloud.connect("solo") as account:
            car = await car_of(account)
            await car.command("flash")

    with pytest.raises(ResponseError):
        await use_the_account()


def test_tls_verification_cannot_be_switched_off_by_accident():
    # Only a caller's own SSL context changes TLS; nothing in evclient turns verification off.
    from pathlib import Path

    import evclient as package

    forbidden = ("ssl=False", "verify_ssl", "CERT_NONE", "check_hostname = False", "_create_unverified_context")
    for path in Path(package.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not [word for word in forbidden if word in text], path
