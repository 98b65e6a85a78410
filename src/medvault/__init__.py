"""MedVault: an isolation-first, on-premise LLM service for hospitals."""

__version__ = "0.1.0"
