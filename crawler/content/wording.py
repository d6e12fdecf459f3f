"""Phrase lists of the page classes, in the languages a guide meets (en, fr, es, de, it, pt, nl).

Each list is matched against the title, the first headings and the opening main text of a page,
after case folding and with typographic apostrophes straightened.
"""

from __future__ import annotations

import re

from shelfcheck.crawler.content.gate import Phrases

_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00a0": " "})


def fold(text: str) -> str:
    """Lower case, straight apostrophes, single spaces."""
    return " ".join(text.translate(_APOS).lower().split())


def _any(*patterns: str) -> Phrases:
    return Phrases(re.compile("|".join(f"(?:{p})" for p in patterns)))


# A title or heading that is nothing but a not-found notice.
NOT_FOUND_HEADING = _any(
    r"^\W*(error )?404\b", r"\b404\W*(error|not found|page|-)", r"\berror\W*404\b",
    r"\b(page|document|file|item|resource|record|guide|course|article|content|url|post) "
    r"(was |is )?not found\b", r"^not found\b", r"\bnot found\W*$",
    r"\bnothing (was )?found\b", r"\b(does not|doesn't|no longer) exists?\b",
    r"\b(cannot|can't|could not|couldn't) be (found|located)\b",
    r"\b(we|i) (cannot|can't|could not|couldn't) (seem to )?(find|locate)\b",
    r"\bpage (is )?(unavailable|missing)\b", r"\bno document\b", r"\bpage gone\b",
    r"\boops\b.{0,40}\b(lost|missing|find|found|exist)", r"\bnot available anymore\b",
    r"\bno longer available\b", r"\bwrong turn\b",
    # fr, es, pt, it, de, nl
    r"\bpage (introuvable|non trouv[ée]e|inexistante)\b", r"\bintrouvable\b",
    r"\bn'existe (pas|plus)\b", r"\bp[áa]gina no (encontrada|existe|disponible)\b",
    r"\bno se (ha podido|pudo) encontrar\b", r"\bp[áa]gina n[ãa]o (encontrada|existe)\b",
    r"\bpagina non (trovata|esiste|disponibile)\b", r"\bseite (wurde )?nicht gefunden\b",
    r"\bnicht gefunden\b", r"\bexistiert nicht\b", r"\bpagina (niet gevonden|bestaat niet)\b",
    r"\bniet gevonden\b", r"\bfehler 404\b", r"\berreur 404\b", r"\berror 404\b",
)

# Opening text that says the requested thing is not there.
NOT_FOUND_TEXT = _any(
    r"\b(the )?(page|document|file|item|resource|record|url|guide|course|article|post|link)"
    r" (you|that you) (requested|are looking for|were looking for|tried to (reach|access|visit)|"
    r"wanted|followed)[^.!]{0,60}\b(not|no longer|cannot|can't|could not|couldn't|"
    r"doesn't|does not|removed|moved|deleted|unavailable|missing)",
    r"\bthe requested (url|page|document|resource|item)[^.!]{0,40}\b(was not found|not found|"
    r"could not be found|does not exist|is not available)",
    r"\b(we|i) (can't|cannot|couldn't|could not) (seem to )?find (the|that|this|what)",
    r"\b(this|the) (page|item|record|guide|resource) (does not|doesn't|no longer) exists?\b",
    r"\bno (document|item|record|page|resource)s? (is |was )?(available|found)\b",
    r"^\W*(error )?404\b", r"^\W*(page|item|record|document) not found\b",
    r"\bhas been (removed|deleted|taken down|unpublished)\b.{0,80}\b(no longer|not)\b",
    r"\bno longer (available|exists|online|hosted)\b",
    r"\bla page (que vous|demand[ée]e)[^.!]{0,60}\b(n'existe|introuvable|pas [ée]t[ée] trouv)",
    r"\bla p[áa]gina (que (busca|buscas|solicit[óo]|est[áa]s? buscando)|solicitada)"
    r"[^.!]{0,60}\bno (existe|se encuentra|est[áa] disponible|ha sido encontrada)",
    r"\bdie (angeforderte|gesuchte|aufgerufene) seite[^.!]{0,60}\b(nicht|existiert nicht)",
    r"\bla pagina (richiesta|che stai cercando)[^.!]{0,60}\bnon\b",
    r"\ba p[áa]gina (que voc[êe] (procura|solicitou)|solicitada)[^.!]{0,60}\bn[ãa]o\b",
    r"\bde (opgevraagde|gevraagde) pagina[^.!]{0,60}\b(niet|bestaat)",
)

# A site saying it is down: decisive in a title or heading.
MAINTENANCE = _any(
    r"\b(down|offline|closed|unavailable) for (scheduled |planned |routine |emergency )?"
    r"(maintenance|upgrades?|updates?|an upgrade|an update)\b",
    r"\bunder maintenance\b", r"\bmaintenance mode\b", r"\bmaintenance in progress\b",
    r"\bbriefly unavailable for scheduled maintenance\b",
    r"\b(site|service|website|server|system) is (temporarily )?(unavailable|down|offline)\b",
    r"\btemporarily (unavailable|down|offline|out of service)\b",
    r"\bservice unavailable\b", r"\bwe('ll| will) be back (soon|shortly|online)\b",
    r"\bback (online )?(soon|shortly)\b", r"\bwe are (currently )?performing\b",
    r"\bcurrently (undergoing|performing)\b", r"\bupgrade in progress\b",
    r"\ben (cours de )?maintenance\b", r"\ben mantenimiento\b", r"\bwartungsmodus\b",
    r"\bin manutenzione\b", r"\bem manuten[çc][ãa]o\b", r"\bin onderhoud\b",
)
# Maintenance as a noun ("system maintenance", "Wartungsarbeiten"): also the title of a course
# about it, so it decides only on a short page that also says the site is away for now.
MAINTENANCE_NOUN = _any(
    r"\b(scheduled|planned|routine|emergency|system|site|server|essential) maintenance\b",
    r"\bwartungsarbeiten\b", r"\bonderhoud\b", r"\bmantenimiento programado\b",
    r"\bmaintenance\b",
)
AWAY_FOR_NOW = _any(
    r"\bback (soon|shortly|online|later)\b", r"\bcheck back\b", r"\bunavailable\b",
    r"\boffline\b", r"\bpatience\b", r"\bshortly\b", r"\bresume\b", r"\binconvenience\b",
    r"\btry again later\b", r"\bplus tard\b", r"\brevenir\b", r"\bvolveremos\b",
    r"\bpronto\b", r"\bvorübergehend\b", r"\bnicht erreichbar\b", r"\bbinnenkort\b",
)

LOGIN = _any(
    r"\b(sign|log) ?in\b", r"\blogin\b", r"\bsign on\b", r"\bsingle sign-?on\b",
    r"\bauthenticat(e|ion) required\b", r"\b(username|user name|password|passcode|netid|"
    r"barcode|library card)\b", r"\binstitutional (login|access)\b", r"\bezproxy\b",
    r"\bshibboleth\b", r"\bconnexion\b", r"\biniciar sesi[óo]n\b", r"\banmelden\b",
    r"\baccedi\b", r"\binloggen\b", r"\bentrar\b",
)

# Parking: text a parked or for-sale domain shows.
PARKED_TEXT = _any(
    r"\b(this|the) domain (name )?(may be|is|might be) (for sale|available)\b",
    r"\b(buy|purchase|make an offer (on|for)|inquire about) this domain\b",
    r"\bdomain (is )?for sale\b", r"\bthis domain (has )?expired\b",
    r"\bdomain (has )?expired\b", r"\bexpired domain\b",
    r"\bparked (free|domain|page|by|courtesy|with)\b", r"\bthis (domain|page) is parked\b",
    r"\bcourtesy of\b.{0,40}\b(registrar|domains?|godaddy|namecheap)\b",
    r"\brelated (searches|links|search topics)\b", r"\bsponsored (listings|links|results)\b",
    r"\bregistered (at|with|by)\b.{0,40}\b(registrar|domains?|godaddy|namecheap|gandi|"
    r"porkbun|dynadot|ionos)\b", r"\bdomain (registration|registrar)\b",
    r"\b(renew|reclaim|restore) (this|your) domain\b", r"\bcoming soon\b.{0,60}\bdomain\b",
    r"\bce domaine (est|pourrait [êe]tre) (à|a) vendre\b", r"\beste dominio (est[áa]|puede estar) "
    r"(en venta|a la venta)\b", r"\bdiese domain (steht|ist|kann) .{0,20}\bverkauf",
    r"\bdomain (kaufen|te koop)\b",
)

# Hosts and scripts of parking services, aftermarkets and registrars' parking pages.
PARKING_HOSTS = re.compile(
    r"(sedoparking\.com|sedo\.com|parkingcrew\.net|bodis\.com|above\.com|parklogic|"
    r"dan\.com|afternic\.com|hugedomains\.com|undeveloped\.com|sav\.com/|"
    r"domainmarket\.com|buydomains\.com|brandbucket\.com|atom\.com/name|squadhelp\.com|"
    r"parked\.godaddy|godaddy\.com/domainsearch|img1\.wsimg\.com/parking|"
    r"namecheap\.com/domains|parkingpage\.namecheap|dynadot\.com/market|porkbun\.com/market|"
    r"epik\.com|uniregistry|skenzo|voodoo\.com|smartname|domainsponsor|fabulous\.com|"
    r"parking\.[a-z]+\.(com|net)|/parking/|caf\.js|parking\.js|park\.js|ads\.js\?.*domain|"
    r"google\.com/adsense/domains|adsense/domains|syndicatedsearch\.goog)", re.I)

# A sign-in page's path: a whole segment (or a file name's stem) such as /login, /cas, /idp.
LOGIN_PATH = re.compile(
    r"(^|/)(login|log-in|logon|signin|sign-in|sign_in|sso|cas|auth|oauth2?|saml2?|idp|"
    r"shibboleth(\.sso)?|wayf|adfs|ezproxy|openathens|wp-login|account/login|"
    r"users?/(login|sign_in)|session/new)(/|\.[a-z]{2,5}\b|$)", re.I)
