"""Settings shared by every Louzu process: where the data folder is and which servers to use."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PlatformSettings(BaseSettings):
    """`LOUZU_HOME` holds the embedded servers' data; `NATS_URL` / `DATABASE_URL` override them."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    louzu_home: Path = Field(default=Path("var"), description="data folder of the embedded servers")
    nats_url: str | None = Field(default=None, description="use this NATS server instead of the embedded one")
    database_url: str | None = Field(default=None, description="use this PostgreSQL instead of the embedded one")
    log_level: str = Field(default="info", alias="LOUZU_LOG_LEVEL")
    http_port: int = Field(default=0, alias="LOUZU_HTTP_PORT",
                           description="port of the consoles and API; 0: a free one (louzu up prints it)")
    public_url: str = Field(default="http://localhost:8080", alias="LOUZU_PUBLIC_URL",
                            description="address residents reach the consoles at (printed in building QR codes)")
    print_workers: int | None = Field(default=None, alias="LOUZU_PRINT_WORKERS",
                                      description="printer processes the roster service keeps for roster PDFs; "
                                                  "unset: 2 on a machine with 2 or more cores; 0: print in-process")

    @property
    def home(self) -> Path:
        return self.louzu_home.expanduser().resolve()

    @property
    def state_file(self) -> Path:
        return self.home / "run.json"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"
