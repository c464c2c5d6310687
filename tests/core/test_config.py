"""Endpoint overrides: one for every service, or one per service."""

from chalicelib.core import config, resources
from chalicelib.core.identity.models import UserModel


def test_per_service_endpoint_override_wins(monkeypatch):
    before = UserModel.Meta.host
    monkeypatch.setenv("TASKHUB_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("TASKHUB_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8001")
    try:
        cfg = config.reload()
        assert cfg.endpoint_for("dynamodb") == "http://127.0.0.1:8001"
        assert cfg.endpoint_for("sqs") == "http://127.0.0.1:4566"
        resources.rebind()
        assert UserModel.Meta.host == "http://127.0.0.1:8001"
        assert UserModel.Meta.table_name == "taskhub-test-users"
    finally:
        monkeypatch.undo()
        config.reload()
        resources.rebind()
    assert UserModel.Meta.host == before


def test_embedded_stage_defaults_to_loopback_moto(monkeypatch):
    monkeypatch.delenv("TASKHUB_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("TASKHUB_EMBEDDED", "true")
    monkeypatch.setenv("TASKHUB_EMBEDDED_PORT", "4777")
    monkeypatch.setenv("TASKHUB_ADMIN_TOKEN", "local-admin-token-123")
    try:
        cfg = config.reload()
        assert cfg.endpoint_for("s3") == "http://127.0.0.1:4777"
        assert cfg.admin_token == "local-admin-token-123"
        monkeypatch.delenv("TASKHUB_EMBEDDED")
        assert config.reload().admin_token is None  # no default credential outside local
    finally:
        monkeypatch.undo()
        config.reload()
