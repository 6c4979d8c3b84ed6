"""ASGI entry point for servers (uvicorn, gunicorn): ``haris.service.asgi:app``."""
from haris.service.app import create_app

app = create_app()
