"""The FHIR resource store: a small interface (`protocol.ResourceStore`) and its adapters."""
