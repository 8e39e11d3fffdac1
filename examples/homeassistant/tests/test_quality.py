"""The quality scale, rule by rule: quality_scale.yaml lists exactly Home Assistant's rules (REFERENCE §4),
every rule marked done names the test that proves it, and the rules without a test elsewhere are proved here:
repair issues, stale devices, reconfiguration, translated exceptions, parallel updates, the README's sections."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import re
from pathlib import Path
from typing import Any

import paho.mqtt.client
import pytest
import yaml
from evclient.simulator import DEMO_PASSWORD, DEMO_USERNAME, Simulator
from evclient.simulator.brands.bmw_cardata import DEMO_CLIENT_ID, DEMO_GCID
from evclient.simulator.clock import SimClock
from evclient.simulator.quota import SlidingQuota
from evclient.simulator.world import World
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import issue_registry as ir

from custom_components.evclient.const import DOMAIN

from .conftest import ZOE, add_account, entity_id, start_flow, state

HERE = Path(__file__).parent
INTEGRATION = HERE.parent / "custom_components" / "evclient"
REFERENCE = HERE.parents[3] / "shared" / "REFERENCE.md"
IX = "WBY31AW0X0FP00001"

#: Home Assistant's rules (REFERENCE §4, from script/hassfest/quality_scale.py, 2026).
RULES = {
    "bronze": "action-setup appropriate-polling brands common-modules config-flow config-flow-test-coverage "
              "dependency-transparency docs-actions docs-conditions docs-high-level-description "
              "docs-installation-instructions docs-removal-instructions docs-triggers entity-event-setup "
              "entity-unique-id has-entity-name runtime-data "
              "test-before-configure test-before-setup unique-config-entry",
    "silver": "action-exceptions config-entry-unloading docs-configuration-parameters docs-installation-parameters "
              "entity-unavailable integration-owner log-when-unavailable parallel-updates reauthentication-flow "
              "test-coverage",
    "gold": "devices diagnostics discovery discovery-update-info docs-data-update docs-examples "
            "docs-known-limitations docs-supported-devices docs-supported-functions docs-troubleshooting "
            "docs-use-cases dynamic-devices entity-category entity-device-class entity-disabled-by-default "
            "entity-translations exception-translations icon-translations reconfiguration-flow repair-issues "
            "stale-devices",
    "platinum": "async-dependency inject-websession strict-typing",
}
ALL_RULES = {rule for rules in RULES.values() for rule in rules.split()}
#: Each rule marked done → the test that proves it ("module::test").
PROOF = {
    "action-setup": "test_actions::test_the_four_renault_actions",
    "appropriate-polling": "test_many_cars::test_four_cars_one_budget_a_whole_day",
    "common-modules": "test_quality::test_every_platform_sets_parallel_updates",
    "config-flow": "test_config_flow::test_two_factor_code_then_account_choice",
    "config-flow-test-coverage": "test_config_flow::test_a_wrong_password_shows_the_form_again_without_the_password",
    "dependency-transparency": "test_quality::test_the_manifest_and_the_hacs_package",
    "docs-actions": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-high-level-description": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-installation-instructions": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-removal-instructions": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "entity-event-setup": "test_resilience::test_a_failing_endpoint_greys_out_its_entities_only_and_they_come_back",
    "entity-unique-id": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "has-entity-name": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "runtime-data": "test_setup::test_renault_entities_show_the_cars_state",
    "test-before-configure": "test_config_flow::test_a_wrong_password_shows_the_form_again_without_the_password",
    "test-before-setup": "test_config_flow::test_setup_resumes_from_the_stored_tokens_without_a_login",
    "unique-config-entry": "test_config_flow::test_the_same_account_twice_is_refused",
    "action-exceptions": "test_quality::test_command_refusals_and_quota_answers_are_translated",
    "config-entry-unloading": "test_quality::test_stale_devices_leave_and_the_entry_unloads",
    "docs-installation-parameters": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "entity-unavailable": "test_resilience::test_a_failing_endpoint_greys_out_its_entities_only_and_they_come_back",
    "integration-owner": "test_quality::test_the_manifest_and_the_hacs_package",
    "log-when-unavailable": "test_quality::test_unavailability_is_logged_once_and_its_end_once",
    "parallel-updates": "test_quality::test_every_platform_sets_parallel_updates",
    "reauthentication-flow": "test_config_flow::test_a_refused_login_in_the_background_asks_to_log_in_again",
    "devices": "test_quality::test_stale_devices_leave_and_the_entry_unloads",
    "diagnostics": "test_resilience::test_diagnostics_and_logs_hold_no_personal_data",
    "docs-data-update": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-examples": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-known-limitations": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-supported-devices": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-supported-functions": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-troubleshooting": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "docs-use-cases": "test_quality::test_the_readme_has_the_sections_home_assistant_asks_for",
    "entity-category": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "entity-device-class": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "entity-disabled-by-default": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "entity-translations": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "exception-translations": "test_quality::test_failures_are_translated",
    "icon-translations": "test_parity::test_every_entity_is_translated_classified_and_drawn",
    "reconfiguration-flow": "test_quality::test_reconfigure_changes_the_settings_and_keeps_the_account",
    "repair-issues": "test_quality::test_repair_issues_for_a_long_pause_and_a_taken_stream",
    "stale-devices": "test_quality::test_stale_devices_leave_and_the_entry_unloads",
    "dynamic-devices": "test_quality::test_cars_added_to_or_removed_from_the_account_come_and_go",
    "async-dependency": "test_quality::test_the_manifest_and_the_hacs_package",
    "test-coverage": "test_quality::test_make_test_ha_checks_strict_types_and_coverage_above_95_percent",
    "strict-typing": "test_quality::test_make_test_ha_checks_strict_types_and_coverage_above_95_percent",
    "inject-websession": "test_quality::test_the_account_uses_home_assistants_session",
}


def scale() -> dict[str, Any]:
    return yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]


def test_the_quality_scale_lists_exactly_home_assistants_rules() -> None:
    rules = scale()
    assert set(rules) == ALL_RULES
    if REFERENCE.exists():  # the list above is REFERENCE §4's, word for word
        text = REFERENCE.read_text()
        section = text[text.index("quality scale (rule ids"):text.index("Home Assistant's own Renault integration")]
        section = section[section.index("**bronze**"):]
        words = set(re.findall(r"[a-z][a-z]+(?:-[a-z]+)*", section)) - set(RULES)
        assert words == ALL_RULES
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "exempt", "todo"}, rule
        if status != "done":
            assert isinstance(value, dict) and len(value.get("comment", "")) > 20, f"{rule}: say why"


def test_every_rule_marked_done_names_a_test_that_exists() -> None:
    done = {rule for rule, value in scale().items() if value == "done"}
    assert done == set(PROOF), done ^ set(PROOF)
    for rule, where in PROOF.items():
        module, name = where.split("::")
        assert callable(getattr(importlib.import_module(f"tests.{module}"), name, None)), (rule, where)


def test_make_test_ha_checks_strict_types_and_coverage_above_95_percent() -> None:
    """`make test` (CI) runs these tests through `make test-ha`, which fails below 95 % line coverage and on any
    error of mypy --strict in the integration (strict-typing)."""
    makefile = (HERE.parents[2] / "Makefile").read_text()
    recipe = makefile[makefile.index("\ntest-ha:"):].split("\n\n")[0]
    assert "--cov=custom_components.evclient" in recipe and "--cov-fail-under=95" in recipe
    assert "mypy --strict" in recipe and "custom_components/evclient" in recipe
    test = makefile[makefile.index("\ntest:"):].split("\n\n")[0]
    assert "$(MAKE) test-ha" in test


def test_every_platform_sets_parallel_updates() -> None:
    from custom_components.evclient import PLATFORMS

    for platform in PLATFORMS:
        module = importlib.import_module(f"custom_components.evclient.{platform.value}")
        assert isinstance(getattr(module, "PARALLEL_UPDATES", None), int), platform
    # Commands hold the car's channel: the platforms that send them run one at a time.
    for platform in ("button", "lock", "number", "select"):
        assert importlib.import_module(f"custom_components.evclient.{platform}").PARALLEL_UPDATES == 1


async def test_the_account_uses_home_assistants_session(hass: HomeAssistant, sim) -> None:
    from homeassistant.helpers.aiohttp_client import async_get_clientsession

    entry = await add_account(hass, sim)
    # The transport was handed Home Assistant's session (a private attribute, looked at by this test only).
    assert entry.runtime_data.account.pipeline.transport._session is async_get_clientsession(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert not async_get_clientsession(hass).closed  # Home Assistant's, left open


async def test_failures_are_translated(hass: HomeAssistant, sim) -> None:
    from .test_actions import device_id

    await add_account(hass, sim)
    sim.world.set_script("hvac-start", latency=5, outcome="never", vin=ZOE)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call("button", "press",
                                       {"entity_id": entity_id(hass, "button", ZOE, "start_air_conditioner")},
                                       blocking=True)
    assert raised.value.translation_domain == DOMAIN and raised.value.translation_key == "command_timed_out"
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(DOMAIN, "send_command", {"vehicle": device_id(hass, ZOE), "command": "horn"},
                                       blocking=True, return_response=True)
    assert raised.value.translation_key == "not_supported"
    assert "horn" in str(raised.value)  # the translated message, with its placeholders filled


async def test_command_refusals_and_quota_answers_are_translated(hass: HomeAssistant, sim) -> None:
    from .conftest import I3
    from .test_actions import device_id

    await add_account(hass, sim, "bmw")
    sim.world.set_script("light-flash", latency=10, outcome="fail", vin=I3)
    with pytest.raises(HomeAssistantError) as raised:  # the car answers NOT_EXECUTED
        await hass.services.async_call(DOMAIN, "send_command", {"vehicle": device_id(hass, I3),
                                                                "command": "light-flash"}, blocking=True)
    assert raised.value.translation_key == "command_failed" and "NOT_EXECUTED" in str(raised.value)
    sim.fault("bmw.executeService", status=429, headers={"Retry-After": "600"}, times=1)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(DOMAIN, "send_command", {"vehicle": device_id(hass, I3),
                                                                "command": "door-lock"}, blocking=True)
    assert raised.value.translation_key == "rate_limited" and "10 min" in str(raised.value)
    with pytest.raises(ServiceValidationError) as invalid:
        await hass.services.async_call(DOMAIN, "ac_start", {"vehicle": device_id(hass, I3), "temperature": 21,
                                                            "when": "2026-12-01T07:00:00"}, blocking=True)
    assert invalid.value.translation_key == "invalid_input"
    with pytest.raises(ServiceValidationError) as invalid:
        await hass.services.async_call(DOMAIN, "ac_cancel", {"vehicle": "no-such-device"}, blocking=True)
    assert invalid.value.translation_key == "no_device"


async def test_unavailability_is_logged_once_and_its_end_once(hass: HomeAssistant, sim, caplog) -> None:
    await add_account(hass, sim)
    caplog.set_level("INFO", logger="custom_components.evclient")
    sim.fault("renault.battery-status", status=500, times=None)
    await asyncio.sleep(4 * 3600)  # many polls fail
    gone = [r for r in caplog.records if "battery-status" in r.message and "unavailable" in r.message]
    assert 1 <= len(gone) <= 4  # once per car, not once per poll
    sim.faults.clear()
    await asyncio.sleep(3 * 3600)
    back = [r for r in caplog.records if "battery-status" in r.message and r.message.endswith("is back")]
    assert len(back) == len(gone)


async def test_stale_devices_leave_and_the_entry_unloads(hass: HomeAssistant, sim) -> None:
    from custom_components.evclient import async_remove_config_entry_device

    entry = await add_account(hass, sim)
    registry = dr.async_get(hass)
    assert registry.async_get_device(identifiers={(DOMAIN, ZOE)}) is not None
    zoe = registry.async_get_device(identifiers={(DOMAIN, ZOE)})
    assert zoe is not None and not await async_remove_config_entry_device(hass, entry, zoe)  # still on the account
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    del sim.world.cars[ZOE]  # sold: the account no longer lists it
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get_device(identifiers={(DOMAIN, ZOE)}) is None
    assert registry.async_get_device(identifiers={(DOMAIN, "VF1RCB00X65000002")}) is not None


async def reconfigure(hass: HomeAssistant, entry_id: str) -> Any:
    from homeassistant.config_entries import SOURCE_RECONFIGURE

    return await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_RECONFIGURE,
                                                                      "entry_id": entry_id})


async def test_reconfigure_changes_the_settings_and_keeps_the_account(hass: HomeAssistant, sim) -> None:
    entry = await add_account(hass, sim)
    result = await reconfigure(hass, entry.entry_id)
    assert result["type"] is FlowResultType.FORM and result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": DEMO_USERNAME, "password": DEMO_PASSWORD, "locale": "de_DE"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data["locale"] == "de_DE" and DEMO_PASSWORD not in str(entry.data)
    assert entry.state is ConfigEntryState.LOADED
    result = await reconfigure(hass, entry.entry_id)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"username": "tfa@evclient.dev", "password": DEMO_PASSWORD, "locale": "fr_FR"})
    assert result["type"] is FlowResultType.ABORT and result["reason"] == "wrong_account"


@pytest.fixture
async def noon_sim(socket_enabled: Any) -> Any:
    """A simulator whose day starts at noon UTC: a daily quota then pauses for hours, not minutes."""
    noon = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0).timestamp()
    simulator = Simulator(world=World(SimClock(epoch=noon)))
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.close()


async def test_repair_issues_for_a_long_pause_and_a_taken_stream(
    hass: HomeAssistant, noon_sim, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aiomqtt

    monkeypatch.setattr(paho.mqtt.client, "time_func", asyncio.get_running_loop().time)
    sim = noon_sim
    result = await start_flow(hass, sim, "bmw-cardata")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"client_id": DEMO_CLIENT_ID})
    await asyncio.sleep(10)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    entry = result["result"]
    issues = ir.async_get(hass)
    coordinator = entry.runtime_data

    # The daily quota used up at noon: CarData pauses its REST API until midnight, twelve hours.
    sim.quotas["bmw-cardata"] = SlidingQuota(1, 86400.0)  # one more call today, then the quota answer
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, f"quota_paused_{entry.entry_id}") is not None

    # Another app takes the stream (twice, as apps reconnect): evclient steps back and says so.
    await asyncio.sleep(60)
    id_token = coordinator.account.tokens["id_token"]
    host, port = sim.servers("bmw-cardata")["stream"].split("//")[1].split("/")[0].split(":")

    async def other_app() -> None:
        client = aiomqtt.Client(host, int(port), username=DEMO_GCID, password=id_token, transport="websockets",
                                websocket_path="/bmw-cardata/stream")
        try:
            async with client:
                await asyncio.sleep(600)
        finally:
            # The other app's own connection may be dropped in turn; aiomqtt keeps that in a future nobody
            # awaits here: look at it so it is not reported as never retrieved.
            done = client._disconnected
            if done.done() and not done.cancelled():
                done.exception()

    others = [asyncio.ensure_future(other_app())]
    await asyncio.sleep(30)
    others.append(asyncio.ensure_future(other_app()))
    await asyncio.sleep(120)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, f"stream_taken_{entry.entry_id}") is not None
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)

    assert await hass.config_entries.async_unload(entry.entry_id)
    await asyncio.sleep(5)
    await hass.async_block_till_done()


async def test_a_login_only_the_owner_can_renew_is_a_repair_issue_until_renewed(hass: HomeAssistant, sim) -> None:
    entry = await add_account(hass, sim, "bmw")
    sim.world.account("bmw", DEMO_USERNAME).password = "changed-password"
    sim.fault("bmw.*", "revoke", revoke_refresh=True)
    await asyncio.sleep(3600)  # a poll meets the refusal
    issues = ir.async_get(hass)
    issue = issues.async_get_issue(DOMAIN, f"login_needs_owner_{entry.entry_id}")
    assert issue is not None and issue.severity is ir.IssueSeverity.ERROR
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {"password": "changed-password"})
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, f"login_needs_owner_{entry.entry_id}") is None


def test_the_manifest_and_the_hacs_package(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys
    import tomllib

    manifest = json.loads((INTEGRATION / "manifest.json").read_text())
    version = tomllib.loads((HERE.parents[2] / "pyproject.toml").read_text())["project"]["version"]
    assert manifest["requirements"] == [f"evclient=={version}"] and manifest["version"] == version
    assert {"domain", "name", "codeowners", "config_flow", "documentation", "integration_type", "iot_class",
            "issue_tracker", "loggers", "requirements", "version"} <= set(manifest)
    assert manifest["codeowners"] and manifest["iot_class"] == "cloud_polling"
    hacs = json.loads((HERE.parent / "hacs.json").read_text())
    assert hacs["name"] and hacs["homeassistant"] == "2025.4.0" and set(hacs) <= {
        "name", "homeassistant", "render_readme", "country", "content_in_root", "zip_release", "filename",
        "hide_default_branch", "persistent_directory", "hacs"}
    # make ha-package lays it out as HACS expects: custom_components/<domain>/ at the root, hacs.json beside.
    out = tmp_path / "package"
    subprocess.run([sys.executable, str(HERE.parent / "package.py"), str(out)], check=True)  # noqa: S603
    assert json.loads((out / "hacs.json").read_text()) == hacs
    packaged = out / "custom_components" / "evclient"
    assert json.loads((packaged / "manifest.json").read_text()) == manifest
    assert {p.name for p in packaged.iterdir()} >= {"__init__.py", "manifest.json", "strings.json", "icons.json",
                                                    "quality_scale.yaml", "services.yaml", "translations"}
    assert not list(packaged.rglob("__pycache__")) and (out / "README.md").exists()


def test_the_readme_has_the_sections_home_assistant_asks_for() -> None:
    readme = (HERE.parent / "README.md").read_text()
    headings = {h.strip().lower() for h in re.findall(r"^## (.+)$", readme, flags=re.M)}
    for section in ("installation", "configuration parameters", "data updates", "supported devices",
                    "supported functions", "actions", "use cases", "examples", "known limitations",
                    "troubleshooting", "removal", "tested home assistant versions"):
        assert section in headings, section
    assert "2025.4.4" in readme


async def test_cars_added_to_or_removed_from_the_account_come_and_go(hass: HomeAssistant, sim) -> None:
    from evclient.simulator.world import Car

    await add_account(hass, sim)
    registry = dr.async_get(hass)
    new = "VF1AG000X60000099"
    sim.world.add_car(Car(brand="renault", vin=new, owner=DEMO_USERNAME, model="X102VE", name="ZOE", plugged=True,
                          battery_level=66.0))
    del sim.world.cars[ZOE]
    await asyncio.sleep(25 * 3600)  # the account is listed again once a day
    await hass.async_block_till_done()
    assert registry.async_get_device(identifiers={(DOMAIN, new)}) is not None
    assert state(hass, "sensor", new, "battery_level").state == "66"
    assert registry.async_get_device(identifiers={(DOMAIN, ZOE)}) is None
