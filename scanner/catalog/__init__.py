"""The resource catalog: every idle-cost resource type, declared once as data."""
