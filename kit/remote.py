"""kit.remote: what a student calls by name in hub mode (adapters, jobs, the connection)."""

from kit.hub.adapters import RemoteAdapter, adapters
from kit.hub.client import RemoteModel
from kit.hub.connect import connect
from kit.hub.finetune import wait_for_job

__all__ = ["RemoteAdapter", "RemoteModel", "adapters", "connect", "wait_for_job"]
