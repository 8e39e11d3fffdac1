"""MyRenault (Gigya + Kamereon) against the simulator: login, e-mail two-factor, accounts, every read."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

import evclient
from evclient import (
    AuthenticationError,
    InvalidCredentialsError,
    InvalidInputError,
    TwoFactorCodeRejected,
    TwoFactorExpired,
    TwoFactorRequired,
)
from evclient.brands.renault.locales import LOCALES, resolve
from evclient.brands.renault.models import ChargeState, PlugState

ZOE, MEGANE, SPRING, CAPTUR = "VF1AG000X64000001", "VF1RCB00X65000002", "UU1DBG00X66000003", "VF1RJB00X67000004"
TFA = "tfa@evclient.dev"


def connect(sim, username="demo@evclient.dev", **kwargs):
    kwargs.setdefault("password", "demo-password")
    return evclient.connect("renault", servers=sim.servers("renault"), username=username, **kwargs)


def code_for(sim, user=TFA):
    return sim.world.messages(user)[-1].body[-6:]


def test_the_locale_table_has_every_common_locale_and_takes_overrides():
    for name in ("fr_FR", "en_GB", "de_DE", "es_ES", "it_IT", "nl_NL", "nl_BE", "fr_BE", "pt_PT", "de_AT", "de_CH",
                 "fr_CH", "sv_SE", "da_DK", "nb_NO", "pl_PL", "cs_CZ", "ro_RO", "sl_SI", "hr_HR", "hu_HU", "en_IE",
                 "fr_LU", "es_MX"):
        assert name in LOCALES
    assert resolve("es_MX").gigya_url == "https://accounts.us1.gigya.com" and resolve("es_MX").country == "MX"
    assert resolve("fr_FR", gigya_api_key="rotated").gigya_api_key == "rotated"
    with pytest.raises(InvalidInputError):
        resolve("xx_XX")
    with pytest.raises(InvalidInputError):
        resolve("france")
    assert "rotated" not in repr(resolve("fr_FR", gigya_api_key="rotated"))


async def test_login_lists_the_account_and_each_model_reads_what_it_has(sim):
    async with connect(sim) as account:
        cars = {car.vin: car for car in await account.vehicles()}
        assert {c.model for c in cars.values()} == {"X102VE", "XCB1VE", "XBG1VE", "XJB1SU"}
        zoe = cars[ZOE]
        battery = await zoe.refresh("battery-status")
        assert battery.battery_level == 63 and battery.plug_state is PlugState.PLUGGED
        assert battery.charge_state is ChargeState.NOT_IN_CHARGE and battery.battery_autonomy == 246
        assert (await zoe.refresh("cockpit")).total_mileage == pytest.approx(23471.0)
        assert (await zoe.refresh("location")).latitude == pytest.approx(48.8566)
        assert (await zoe.refresh("pressure")).pressures_mbar["fl"] == 2500
        assert (await zoe.refresh("hvac-status")).hvac_on is False
        settings = await zoe.refresh("charging-settings")
        assert settings.schedules[0].days["monday"] == {"startTime": "T00:30Z", "duration": 360}
        [session] = await zoe.refresh("charges", start=dt.date(2026, 11, 1), end="2026-11-30")
        assert session.duration == dt.timedelta(minutes=359) and session.start_power_kw == 7.2
        [month] = await zoe.refresh("charge-history", start="2026-11-01", end="2026-11-30")
        assert month.period == "202611" and month.count == 1
        assert (await cars[MEGANE].refresh("soc-levels")).soc_target == 80
        # The model table knows what each car lacks: no request is spent on those.
        assert cars[SPRING].endpoints["charging-settings"].supported is False
        assert cars[ZOE].endpoints["lock-status"].supported is False
        before = len(sim.log)
        with pytest.raises(evclient.NotSupportedError):
            await cars[SPRING].refresh("soc-levels")
        assert len(sim.log) == before
    sent = [e for e in sim.requests(brand="renault") if e.route.startswith("renault.") and "gigya" not in e.path]
    assert all(e.query.get("country") == "FR" for e in sent)


async def test_bad_dates_and_wrong_credentials_cost_nothing_or_one_clear_error(sim):
    async with connect(sim) as account:
        zoe = await account.vehicle(ZOE)
        before = len(sim.log)
        for params in ({"start": "2026-13-01", "end": "2026-12-01"}, {"start": "2026-11-30", "end": "2026-11-01"},
                       {"start": "2026-11-01", "end": "2026-11-30", "period": "week"}):
            with pytest.raises(InvalidInputError):
                await zoe.refresh("charge-history", **params)
        assert len(sim.log) == before
    with pytest.raises(InvalidCredentialsError) as refused:
        await connect(sim, password="not-it")
    assert "not-it" not in str(refused.value)
    with pytest.raises(AuthenticationError, match="api key"):
        await connect(sim, gigya_api_key="3_not-a-key")


async def test_two_factor_login_pauses_resumes_and_is_not_asked_again(sim, caplog):
    caplog.set_level("DEBUG")
    with pytest.raises(TwoFactorRequired) as asked:
        await connect(sim, TFA)
    challenge = asked.value.challenge
    try:
        [address] = await challenge.emails()
        assert address.masked == "t***@evclient.dev"
        with pytest.raises(InvalidInputError):
            await challenge.complete("123456")  # no code sent yet
        await challenge.send_code()
        code = code_for(sim)
        with pytest.raises(InvalidInputError):
            await challenge.complete("12ab")
        with pytest.raises(TwoFactorCodeRejected):
            await challenge.complete("000000" if code != "000000" else "111111")
        account = await challenge.complete(code)
    except BaseException:
        await challenge.close()
        raise
    try:
        await account.vehicles()
        tokens = account.tokens
    finally:
        await account.close()
    assert tokens["login_token"] and tokens["device"]["gmid"]
    assert code not in caplog.text and tokens["login_token"] not in caplog.text
    # Resumed from the tokens: no password, no code.
    async with evclient.connect("renault", servers=sim.servers("renault"), tokens=tokens) as resumed:
        await resumed.vehicles()
    # A password login from the remembered device is not asked for a code either.
    async with connect(sim, TFA, tokens={**tokens, "login_token": None}) as again:
        await again.vehicles()
    assert len(sim.world.messages(TFA)) == 1


async def test_too_many_wrong_codes_end_the_challenge(sim):
    with pytest.raises(TwoFactorRequired) as asked:
        await connect(sim, TFA)
    challenge = asked.value.challenge
    try:
        await challenge.send_code()
        wrong = "000000" if code_for(sim) != "000000" else "111111"
        for _ in range(3):
            with pytest.raises(TwoFactorCodeRejected):
                await challenge.complete(wrong)
        with pytest.raises(TwoFactorExpired):
            await challenge.complete(code_for(sim))
        with pytest.raises(TwoFactorExpired):
            await challenge.send_code()
    finally:
        await challenge.close()


async def test_gigya_and_kamereon_have_separate_budgets(sim):
    async with connect(sim) as account:
        windows = {w.name: w for w in account.budget.windows}
        assert windows["kamereon"].limit == 60 and windows["gigya"].limit == 30
        await account.vehicles()
        windows = {w.name: w for w in account.budget.windows}
        assert windows["gigya"].used == 4  # bootstrap, login, account info, JWT
        assert windows["kamereon"].used == 2  # person, vehicles


async def test_a_429_on_the_token_renewal_pauses_the_account_instead_of_retrying_every_poll(sim):
    async with connect(sim) as account:
        car = (await account.vehicles())[0]
        await asyncio.sleep(1000)  # past the JWT's 15 minutes
        # An HTTP 429 whose body is no Gigya answer at all (a proxy's, say): still the server saying "slow down".
        sim.fault("renault.accounts.getJWT", status=429, body={"message": "Too Many Requests"},
                  headers={"Retry-After": "600"}, times=None)
        with pytest.raises(evclient.QuotaExceeded) as caught:
            await car.refresh("battery-status")
        assert caught.value.retry_after == 600 and account.budget.paused_for == pytest.approx(600, abs=1)
        await account.start()
        await asyncio.sleep(599)
        assert len(sim.requests(route="renault.accounts.getJWT")) == 2  # the first token, and the one refusal
