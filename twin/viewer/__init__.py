"""The 3D comparison viewer (Dash + deck.gl, offline)."""

from twin.viewer.app import create_app
from twin.viewer.server import make_app, serve

__all__ = ["create_app", "make_app", "serve"]
