"""The OpenAPI 3.1 description of the service's HTTP API, served at `/openapi.json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scanner import __version__
from scanner.openapi_schemas import SCHEMAS
from scanner.plan_route import PLAN_PATH
from scanner.query import packaged_types, results_parameters


def _json_response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_ERRORS = {
    "401": _json_response("a valid bearer token is required", "Error"),
    "503": _json_response("the first scan has not finished yet", "Error"),
}


def openapi_document(
    bearer: bool = True, resource_types: Sequence[str] | None = None
) -> dict[str, Any]:
    """The OpenAPI document; `bearer` says whether a token is required (it is described always);
    `resource_types` are the values `resource_type` takes (default: the packaged catalog's)."""
    if resource_types is None:
        resource_types = packaged_types()
    secured: list[dict[str, list[str]]] = [{"bearer": []}] if bearer else []
    path_parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("account_id", "region", "resource_type", "resource_id")
    ]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "leftovers",
            "version": __version__,
            "description": "AWS resources created and never deleted, from CloudTrail history.",
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": secured,
        "paths": {
            "/results": {
                "get": {
                    "summary": "The leftovers of the last finished scan, filtered and paged",
                    "operationId": "getResults",
                    "parameters": results_parameters(resource_types),
                    "responses": {
                        "200": _json_response("one page of leftovers", "Results"),
                        "400": _json_response("a query parameter is invalid", "Error"),
                        **_ERRORS,
                    },
                }
            },
            "/resources/{account_id}/{region}/{resource_type}/{resource_id}": {
                "get": {
                    "summary": "One resource with its lifecycle and stored events",
                    "operationId": "getResource",
                    "parameters": path_parameters,
                    "responses": {
                        "200": _json_response("the resource", "Resource"),
                        "404": _json_response("no such resource", "Error"),
                        **_ERRORS,
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics of the last finished scan",
                    "operationId": "getMetrics",
                    "responses": {
                        "200": {
                            "description": "text exposition format 0.0.4",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": _ERRORS["401"],
                    },
                }
            },
            "/plan": PLAN_PATH,
            "/healthz": {
                "get": {
                    "summary": "Liveness: the process answers",
                    "operationId": "getHealth",
                    "security": [],
                    "responses": {"200": _json_response("alive", "Health")},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Readiness: first scan finished, its store writes went through, "
                    "it read some region",
                    "operationId": "getReady",
                    "security": [],
                    "responses": {
                        "200": _json_response("ready", "Readiness"),
                        "503": _json_response(
                            "not ready: no scan finished yet, the last one's store writes failed "
                            "or it read no region",
                            "Readiness",
                        ),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "getOpenApi",
                    "responses": {
                        "200": {
                            "description": "the OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "401": _ERRORS["401"],
                    },
                }
            },
        },
    }
