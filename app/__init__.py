"""The bankchurn HTTP service: FastAPI in front of the verified model of ``models/``.

``app.fastapi_app`` wires the pieces; each other module does one job (settings, schemas,
model state, scoring, metrics, logging, errors, middleware, routes).
"""
