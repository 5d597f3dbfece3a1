"""The HTTP API of a node: FastAPI app factory, routers, authentication, authorisation and problems."""
