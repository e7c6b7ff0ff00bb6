"""Configuration: the one place that reads the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("juriscope"))


class Settings(BaseSettings):
    """Juriscope settings, from the environment (prefix `JURISCOPE_`) or a `.env` file."""

    model_config = SettingsConfigDict(env_prefix="JURISCOPE_", env_file=".env", extra="ignore")

    env: Literal["local", "test", "production"] = "local"
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "JURISCOPE_DATABASE_URL")
    )
    database_read_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_READ_URL", "JURISCOPE_DATABASE_READ_URL"),
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "JURISCOPE_REDIS_URL")
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    migrations_dir: Path | None = None
    public_read: bool = True
    seed_on_start: bool = True

    pool_size: int = Field(default=5, ge=1, le=100)
    pool_max_overflow: int = Field(default=5, ge=0, le=100)
    pool_timeout_s: float = Field(default=3.0, gt=0)
    connect_timeout_s: float = Field(default=3.0, gt=0)
    statement_timeout_ms: int = Field(default=5000, ge=0)

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cache_max_age: int = Field(default=60, ge=0)
    response_cache_entries: int = Field(default=512, ge=0)
    response_cache_bytes: int = Field(default=67_108_864, ge=0)
    public_url: str | None = Field(
        default=None,
        description="The API's public base URL (e.g. https://api.example.org): the `servers` "
        "entry and absolute pagination links. Unset: links are relative, never built from "
        "the request's Host header.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_header_bytes: int = Field(default=16_384, ge=1024)
    header_timeout_s: float = Field(default=10.0, gt=0)
    keep_alive_timeout_s: int = Field(default=5, ge=1)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_import_bytes: int = Field(default=33_554_432, ge=1024)
    rate_limit: str = "600/minute"
    write_rate_limit: str = "120/minute"

    # Request ids, Prometheus metrics and the per-request log event (app/observability/).
    # Off only to measure what they cost (`make bench`): no X-Request-ID, nothing counted.
    instrumentation: bool = True
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, GET /metrics needs `Authorization: Bearer <token>`.",
    )
    # Where `serve` keeps the workers' metric files (prometheus_client's multiprocess mode);
    # unset: a temporary directory of its own. Emptied when `serve` starts.
    metrics_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR", "JURISCOPE_METRICS_DIR"),
    )
    traces: bool = False
    otel_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
    )
    otel_sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
            raise ValueError("JURISCOPE_PUBLIC_URL must be an http(s) URL without query")
        return value

    @model_validator(mode="after")
    def _production_needs_a_database(self) -> "Settings":
        if self.env == "production" and not self.database_url:
            raise ValueError("DATABASE_URL must be set when JURISCOPE_ENV=production")
        return self

    @field_validator("metrics_token")
    @classmethod
    def _blank_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @property
    def tracing(self) -> bool:
        """Traces are exported when JURISCOPE_TRACES=true or an OTLP endpoint is set, unless
        OTEL_SDK_DISABLED=true."""
        return not self.otel_sdk_disabled and (self.traces or bool(self.otel_endpoint))

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is set and the embedded PostgreSQL is used."""
        return not self.database_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
