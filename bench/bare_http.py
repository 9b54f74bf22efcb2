"""The bare HTTP floor's server: a FastAPI app under uvicorn, as the services run, whose one endpoint only reads a form and answers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/form")
async def form(request: Request) -> JSONResponse:
    """Reads the posted form, as a status callback's handler does first, and answers with its size."""
    return JSONResponse({"fields": len(await request.form())})


@app.get("/health")
async def health() -> JSONResponse:
    """Answers once the server is up."""
    return JSONResponse({"status": "ok"})
