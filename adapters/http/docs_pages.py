"""The node's API documentation page, /docs (Swagger UI 5), from assets installed with the project (the
`fastapi-offline` wheel ships them): the page loads nothing from outside the node, so it works on a machine
without internet access and tells no CDN who reads it.

FastAPI's own pages load Swagger UI and ReDoc from a CDN (jsDelivr) and a favicon from fastapi.tiangolo.com;
where those cannot be reached, /docs is a blank page. There is no /redoc: ReDoc's page loads its logo from
cdn.redoc.ly whatever its options.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs-assets"


def install(app: FastAPI) -> None:
    """Serve /docs for `app` (created with `docs_url=None, redoc_url=None`), relative to where the
    app is mounted (`root_path`: /orgs/<organisation> in the demo)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS), name="docs-assets")

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = base(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        )
