"""A thin client for the Hermes Agent Runs API, as an app would write one.

It retries run creation on 429/503 (honouring `Retry-After`), polls with a fixed
interval and an overall deadline, and reads the SSE stream line by line.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

TERMINAL = {"completed", "failed", "cancelled"}


class RunTimeout(Exception):
    """The run did not finish before the client's deadline."""


class RunsClient:
    """Synchronous client: `start`, `status`, `wait`, `events`, `approve`, `stop`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.Client | None = None,
        poll_interval: float = 2.0,
        deadline: float = 300.0,
        max_retries: int = 3,
    ) -> None:
        self.http = http or httpx.Client(base_url=base_url, timeout=10.0)
        self.http.base_url = httpx.URL(base_url)
        self.http.headers["Authorization"] = f"Bearer {api_key}"
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.max_retries = max_retries

    def start(self, prompt: str, **fields: Any) -> str:
        """POST /v1/runs, retrying when the server is busy or draining."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self.http.post("/v1/runs", json={"input": prompt, **fields})
            except httpx.TransportError:
                if attempt == self.max_retries:
                    raise
                time.sleep(2**attempt)
                continue
            if response.status_code in (429, 503) and attempt < self.max_retries:
                time.sleep(float(response.headers.get("Retry-After", 2**attempt)))
                continue
            response.raise_for_status()
            return str(response.json()["run_id"])
        raise AssertionError("unreachable")

    def status(self, run_id: str) -> dict[str, Any]:
        response = self.http.get(f"/v1/runs/{run_id}")
        response.raise_for_status()
        return dict(response.json())

    def wait(self, run_id: str) -> dict[str, Any]:
        """Poll until the run is finished; RunTimeout after `deadline` seconds."""
        started = time.monotonic()
        while True:
            run = self.status(run_id)
            if run["status"] in TERMINAL:
                return run
            if time.monotonic() - started >= self.deadline:
                raise RunTimeout(f"run {run_id} still {run['status']} after {self.deadline} s")
            time.sleep(self.poll_interval)

    def events(self, run_id: str) -> Iterator[dict[str, Any]]:
        """The run's events as dicts, in order, until the stream closes."""
        with self.http.stream("GET", f"/v1/runs/{run_id}/events") as response:
            response.raise_for_status()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    yield json.loads(line[len("data: ") :])

    def approve(self, run_id: str, choice: str) -> dict[str, Any]:
        response = self.http.post(f"/v1/runs/{run_id}/approval", json={"choice": choice})
        response.raise_for_status()
        return dict(response.json())

    def stop(self, run_id: str) -> None:
        self.http.post(f"/v1/runs/{run_id}/stop").raise_for_status()


class AsyncRunsClient:
    """The asyncio twin of RunsClient, for async apps."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        poll_interval: float = 2.0,
        deadline: float = 300.0,
    ) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url, timeout=10.0)
        self.http.base_url = httpx.URL(base_url)
        self.http.headers["Authorization"] = f"Bearer {api_key}"
        self.poll_interval = poll_interval
        self.deadline = deadline

    async def start(self, prompt: str, **fields: Any) -> str:
        response = await self.http.post("/v1/runs", json={"input": prompt, **fields})
        response.raise_for_status()
        return str(response.json()["run_id"])

    async def status(self, run_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/runs/{run_id}")
        response.raise_for_status()
        return dict(response.json())

    async def wait(self, run_id: str) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            run = await self.status(run_id)
            if run["status"] in TERMINAL:
                return run
            if loop.time() - started >= self.deadline:
                raise RunTimeout(f"run {run_id} still {run['status']} after {self.deadline} s")
            await asyncio.sleep(self.poll_interval)

    async def events(self, run_id: str) -> AsyncIterator[dict[str, Any]]:
        async with self.http.stream("GET", f"/v1/runs/{run_id}/events") as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    yield json.loads(line[len("data: ") :])

    async def approve(self, run_id: str, choice: str) -> dict[str, Any]:
        response = await self.http.post(f"/v1/runs/{run_id}/approval", json={"choice": choice})
        response.raise_for_status()
        return dict(response.json())
