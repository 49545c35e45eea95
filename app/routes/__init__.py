"""HTTP routes, one module per concern; ``app.fastapi_app`` includes their routers."""
