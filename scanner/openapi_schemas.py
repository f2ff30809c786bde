"""The JSON schemas of the HTTP API's answers (a leftover, an event, the results page...),
for the OpenAPI document of openapi.py."""

from __future__ import annotations

from typing import Any

from scanner.verify.schema import VERIFICATION, VERIFIED_GONE, gone_leftover

_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}

_ACTOR = {
    "type": "object",
    "required": ["arn", "user_name", "source_ip", "user_agent"],
    "properties": {
        "arn": _NULLABLE_STRING,
        "user_name": _NULLABLE_STRING,
        "source_ip": _NULLABLE_STRING,
        "user_agent": _NULLABLE_STRING,
    },
}

_LEFTOVER: dict[str, Any] = {
    "type": "object",
    "required": [
        "account_id",
        "region",
        "service",
        "resource_type",
        "resource_id",
        "arn",
        "name",
        "state",
        "created_at",
        "created_by",
        "create_event_id",
        "created_via",
        "tags",
        "age_seconds",
        "attributes",
        "console_url",
        "estimated_hourly_cost",
    ],
    "properties": {
        "account_id": {"type": "string"},
        "region": {"type": "string"},
        "service": {"type": "string"},
        "resource_type": {"type": "string", "examples": ["ec2.volume"]},
        "resource_id": {"type": "string"},
        "arn": _NULLABLE_STRING,
        "name": _NULLABLE_STRING,
        "state": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "created_by": {"$ref": "#/components/schemas/Actor"},
        "create_event_id": {"type": "string"},
        "created_via": {
            **_NULLABLE_STRING,
            "description": "the parent a service created it for: `<type>/<id>`, e.g. "
            "`autoscaling.group/web`, `cloudformation.stack/<stack ARN>`",
        },
        "tags": {"type": "object", "additionalProperties": {"type": "string"}},
        "age_seconds": {"type": "integer", "minimum": 0},
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        "console_url": {"type": "string"},
        "estimated_hourly_cost": {
            "type": ["number", "null"],
            "minimum": 0,
            "description": "USD per hour from the catalog's list prices; null when unknown",
        },
        "verification": VERIFICATION,
    },
}

_FACT = {
    "type": "object",
    "required": [
        "change",
        "time",
        "event_id",
        "event_name",
        "actor",
        "state",
        "name",
        "arn",
        "attributes",
        "renamed_from",
    ],
    "properties": {
        "change": {"type": "string", "enum": ["create", "delete", "state"]},
        "time": {"type": "string", "format": "date-time"},
        "event_id": {"type": "string"},
        "event_name": {"type": "string"},
        "actor": {"$ref": "#/components/schemas/Actor"},
        "state": _NULLABLE_STRING,
        "name": _NULLABLE_STRING,
        "arn": _NULLABLE_STRING,
        "attributes": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
        },
        "renamed_from": {
            "oneOf": [{"$ref": "#/components/schemas/Key"}, {"type": "null"}],
            "description": "the resource this event renamed (RDS ModifyDBInstance)",
        },
        "created_via": _NULLABLE_STRING,
    },
}

#: A leftover's item, plus why its region is incomplete.
_INCOMPLETE = {
    **_LEFTOVER,
    "required": [*_LEFTOVER["required"], "reason"],
    "properties": {
        **_LEFTOVER["properties"],
        "reason": {"type": "string", "description": "why its region is not read in full"},
    },
}

_MAYBE_FACT = {"oneOf": [{"$ref": "#/components/schemas/Event"}, {"type": "null"}]}

_KEY = {
    "type": "object",
    "required": ["account_id", "region", "resource_type", "resource_id"],
    "properties": {
        name: {"type": "string"}
        for name in ("account_id", "region", "resource_type", "resource_id")
    },
}

SCHEMAS: dict[str, Any] = {
    "Actor": _ACTOR,
    "Key": _KEY,
    "Leftover": _LEFTOVER,
    "Incomplete": _INCOMPLETE,
    "GoneLeftover": gone_leftover(_LEFTOVER),
    "Event": _FACT,
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "message": {"type": "string"},
                    "parameter": {"type": "string", "description": "the query parameter at fault"},
                },
            }
        },
    },
    "Results": {
        "type": "object",
        "required": [
            "generated_at",
            "window",
            "leftovers",
            "incomplete",
            "incomplete_regions",
            "ignored",
            "errors",
            "stats",
        ],
        "properties": {
            "generated_at": {"type": "string", "format": "date-time"},
            "window": {
                "type": "object",
                "required": ["start", "end"],
                "properties": {
                    "start": {"type": "string", "format": "date-time"},
                    "end": {"type": "string", "format": "date-time"},
                },
            },
            "leftovers": {"type": "array", "items": {"$ref": "#/components/schemas/Leftover"}},
            "incomplete": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Incomplete"},
                "description": "resources of regions not read in full that are not known to "
                "be deleted (a delete may be among what was not read): not leftovers, not "
                "counted in the metrics; filtered as `leftovers`, on the first page only",
            },
            "ignored": {
                "type": "array",
                "items": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Leftover"},
                        {
                            "type": "object",
                            "required": ["ignored_reason"],
                            "properties": {"ignored_reason": {"type": "string"}},
                        },
                    ]
                },
                "description": "leftovers an ignore rule sets apart, with its reason: not "
                "counted in the metrics; filtered as `leftovers`, on the first page only",
            },
            "incomplete_regions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["account_id", "region", "reason"],
                    "properties": {
                        "account_id": {"type": "string"},
                        "region": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                },
                "description": "the account-regions whose window is not read in full (a first "
                "read or a gap that failed): no source of leftovers until read",
            },
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["account_id", "region", "stream", "reason"],
                    "properties": {
                        "account_id": {"type": "string"},
                        "region": {"type": "string"},
                        "stream": {"type": "string"},
                        "reason": {"type": "string"},
                        "count": {"type": "integer", "minimum": 1},
                    },
                },
            },
            "stats": {
                "type": "object",
                "required": [
                    "api_calls",
                    "throttled",
                    "events_read",
                    "events_matched",
                    "duration_seconds",
                ],
                "properties": {
                    "api_calls": {"type": "integer"},
                    "throttled": {"type": "integer"},
                    "events_read": {"type": "integer"},
                    "events_matched": {"type": "integer"},
                    "duration_seconds": {"type": "number"},
                },
            },
            "verified_gone": VERIFIED_GONE,
            "next_cursor": {
                "type": ["string", "null"],
                "description": "pass as `cursor` to get the next page; null on the last page",
            },
        },
    },
    "Resource": {
        "type": "object",
        "required": [
            "account_id",
            "region",
            "resource_type",
            "resource_id",
            "service",
            "leftover",
            "lifecycle",
            "events",
        ],
        "properties": {
            "account_id": {"type": "string"},
            "region": {"type": "string"},
            "resource_type": {"type": "string"},
            "resource_id": {"type": "string"},
            "service": _NULLABLE_STRING,
            "leftover": {
                "oneOf": [{"$ref": "#/components/schemas/Leftover"}, {"type": "null"}],
                "description": "the leftover entry, or null when the resource was deleted",
            },
            "lifecycle": {
                "type": "object",
                "required": ["created", "deleted", "state_change"],
                "properties": {
                    "created": _MAYBE_FACT,
                    "deleted": _MAYBE_FACT,
                    "state_change": _MAYBE_FACT,
                },
            },
            "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"const": "ok"}},
    },
    "Readiness": {
        "type": "object",
        "required": ["ready", "first_scan_finished", "store_writable", "all_regions_failed"],
        "properties": {
            "ready": {"type": "boolean"},
            "first_scan_finished": {"type": "boolean"},
            "store_writable": {
                "type": "boolean",
                "description": "false when the last scan ended on a store write that failed",
            },
            "all_regions_failed": {
                "type": "boolean",
                "description": "true when the last scan read no region (every one failed)",
            },
            "last_scan": {
                "type": "object",
                "description": "the last finished scan (absent before the first)",
                "required": ["id", "outcome", "finished_at"],
                "properties": {
                    "id": {"type": "integer"},
                    "outcome": {"type": "string", "enum": ["ok", "partial", "failed"]},
                    "finished_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}
