"""Where each locale's MyRenault servers are, and the public api keys of Renault's apps.

These are published facts (the apps send them to anyone who looks), not secrets. Renault rotates the keys
now and then, so every value can be overridden: ``connect("renault", locale="fr_FR", gigya_api_key=...)``.
"""

from __future__ import annotations

import attrs

from ...errors import InvalidInputError

GIGYA_EU = "https://accounts.eu1.gigya.com"
GIGYA_US = "https://accounts.us1.gigya.com"
GIGYA_AU = "https://gigya-prod-au1.renaultgroup.com"
KAMEREON_EU = "https://api-wired-prod-1-euw1.wrd-aws.com"
KAMEREON_US = "https://api-wired-prod-1-usw2.wrd-aws.com"
KAMEREON_AU = "https://api-wired-prod-1-apn1.wrd-aws.com"
GIGYA_KEY_EU = "3_VgdkgtIRH3AdHvJm-cjV2ug2EFE0lxt0IJzMC4MFqZjFpn_GYFXVdNZ19L7wZX0N"
KAMEREON_KEY = "YjkKtHmGfaceeuExUDKGxrLZGGvtVS0J"


@attrs.frozen
class Locale:
    """One locale's servers and keys; ``country`` goes on every Kamereon request."""

    name: str
    gigya_url: str
    gigya_api_key: str = attrs.field(repr=False)
    kamereon_url: str
    kamereon_api_key: str = attrs.field(repr=False)

    @property
    def country(self) -> str:
        return self.name[-2:].upper()

    @property
    def language(self) -> str:
        return self.name[:2].lower()


def _eu(name: str, gigya_key: str = GIGYA_KEY_EU) -> Locale:
    return Locale(name, GIGYA_EU, gigya_key, KAMEREON_EU, KAMEREON_KEY)


LOCALES: dict[str, Locale] = {
    locale.name: locale
    for locale in (
        *(_eu(name) for name in (
            "bg_BG", "cs_CZ", "da_DK", "de_AT", "de_CH", "de_DE", "en_GB", "en_IE", "es_ES", "fi_FI", "fr_BE",
            "fr_CH", "fr_FR", "hr_HR", "hu_HU", "it_CH", "it_IT", "nb_NO", "nl_BE", "nl_NL", "no_NO", "pl_PL",
            "pt_PT", "ro_RO", "sk_SK", "sl_SI", "sv_SE",
        )),
        _eu("fr_LU", "3_zt44Wl_wT9mnqn-BHrR19PvXj3wYRPQKLcPbGWawlatFR837KdxSZZStbBTDaqnb"),
        Locale("es_MX", GIGYA_US, "4_yTFqPSsGxVyRXPZUM7t1Iw", KAMEREON_US, KAMEREON_KEY),
        Locale("en_AU", GIGYA_AU, "4_GC9iGd3sH8sMJpz2x0q0CQ", KAMEREON_AU, KAMEREON_KEY),
    )
}


def resolve(
    locale: str,
    *,
    gigya_url: str | None = None,
    gigya_api_key: str | None = None,
    kamereon_url: str | None = None,
    kamereon_api_key: str | None = None,
) -> Locale:
    """The locale's settings with any of them overridden; a locale outside the table needs all four."""
    if not isinstance(locale, str) or len(locale) != 5 or locale[2] != "_":
        raise InvalidInputError(f"locale must look like fr_FR, got {locale!r}")
    known = LOCALES.get(locale)
    overrides = {"gigya_url": gigya_url, "gigya_api_key": gigya_api_key, "kamereon_url": kamereon_url,
                 "kamereon_api_key": kamereon_api_key}
    given = {k: v for k, v in overrides.items() if v is not None}
    for key, value in given.items():
        if not isinstance(value, str) or not value:
            raise InvalidInputError(f"{key} must be a non-empty string")
    if known is None:
        missing = set(overrides) - set(given)
        if missing:
            raise InvalidInputError(
                f"no settings are known for locale {locale}: give {', '.join(sorted(missing))} "
                f"(known: {', '.join(sorted(LOCALES))})"
            )
        return Locale(locale, **given)
    return attrs.evolve(known, **given)
