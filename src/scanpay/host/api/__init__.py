"""The host's HTTP adapter: app factory, signed envelope, error shape, routers."""

from scanpay.host.api.app import create_app, create_app_from_env

__all__ = ["create_app", "create_app_from_env"]
