"""How bytes reach the client, one module per way in (ARCHITECTURE.md, layer 4): httpx
transports, a respx router, and a loopback HTTP server for any ASGI app. Each gets the app
and the clock, never the façade."""
