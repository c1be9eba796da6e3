"""FHIR search: parameter declarations, value extraction and query parsing (pure Python, no
Django)."""
