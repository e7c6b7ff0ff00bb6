"""Vocabulary of the synthetic dataset: codes, categories, kinds, words, and the tiny
helpers that draw names and sentences from them."""

import random
import string

CATEGORIES = (
    "licensing",
    "token_classification",
    "stablecoins",
    "innovation",
    "taxation",
    "aml_compliance",
    "market_access",
    "consumer_protection",
    "talent",
    "privacy",
)
VALUE_TYPES = ("boolean", "enum", "integer", "number", "percent", "date", "text")
REGIONS = (
    "asia_pacific",
    "middle_east",
    "europe",
    "north_america",
    "latin_america_caribbean",
    "africa",
)
CONFIDENCES = ("verified", "reported", "estimated", "disputed")
CONFIDENCE_WEIGHTS = (70, 18, 9, 3)
SOURCE_KINDS = ("law", "regulator", "dataset", "research_report", "news", "article")
EVENT_KINDS = (
    "law_enacted",
    "law_effective",
    "licence_granted",
    "consultation",
    "enforcement",
    "policy_announcement",
    "market_exit",
    "market_entry",
)
# The API's vocabulary (app.jurisdictions.models.REMITS): the database refuses anything else.
REMITS = (
    "securities",
    "banking",
    "virtual_assets",
    "aml",
    "tax",
    "insurance",
    "consumer_protection",
)
PARENT_CODES = (
    tuple(f"X{c}" for c in string.ascii_uppercase)
    + tuple(f"Q{c}" for c in "MNOPQRSTUVWXYZ")
    + ("AA", "ZZ")
)
ENUM_OPTIONS: tuple[tuple[tuple[str, str, float], ...], ...] = (
    (
        ("none", "No regime", 0.0),
        ("restricted", "Restricted", 0.4),
        ("licensed", "Licensing regime", 0.8),
        ("comprehensive", "Comprehensive regime", 1.0),
    ),
    (
        ("prohibited", "Prohibited", 0.0),
        ("unclear", "Unclear", 0.3),
        ("permitted", "Permitted", 1.0),
    ),
    (
        ("absent", "Absent", 0.0),
        ("consultation", "Under consultation", 0.25),
        ("enacted", "Enacted", 0.6),
        ("in_force", "In force", 0.9),
        ("mature", "Mature", 1.0),
    ),
)
METRIC_STEMS = (
    ("licensed_vasp_count", "count", True),
    ("trading_volume_usd", "USD millions", True),
    ("crypto_jobs", "jobs", True),
    ("venture_funding_usd", "USD millions", True),
    ("market_cap_usd", "USD millions", True),
    ("stablecoin_supply_usd", "USD millions", True),
    ("retail_adoption_pct", "percent", True),
    ("enforcement_actions", "count", False),
    ("licence_applications", "count", True),
    ("etf_assets_usd", "USD millions", True),
    ("tax_revenue_usd", "USD millions", None),
    ("developer_count", "developers", True),
    ("patent_filings", "count", True),
    ("exchange_count", "count", True),
)
BILATERAL_STEMS = (
    ("talent_migration", "people"),
    ("capital_flows_usd", "USD millions"),
    ("firm_relocations", "firms"),
    ("remittances_usd", "USD millions"),
)
FREQUENCIES = ("annual", "quarterly", "monthly")
HISTORY = {"annual": 30, "quarterly": 100, "monthly": 240}
_SYLLABLES = (
    "ar bel cor dan el fen gar hol ist jor kal lun mor nav or pel quin ros sal tor ul "
    "ven wes yar zan bri cas dro fal gre lam mir nor sor tal vir"
)
_WORDS = (
    "regime licence supervision disclosure custody reserve audit sandbox guidance tax "
    "exemption threshold transition framework registration capital requirement retail "
    "professional investor stablecoin issuer exchange broker wallet travel rule"
)
SYLLABLES = _SYLLABLES.split()
WORDS = _WORDS.split()


def place_name(rng: random.Random) -> str:
    """A pronounceable made-up place or person name."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def confidence(rng: random.Random) -> str:
    return rng.choices(CONFIDENCES, CONFIDENCE_WEIGHTS)[0]
