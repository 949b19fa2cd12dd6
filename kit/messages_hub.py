"""Hub-mode messages (service, client, engine), merged into kit.messages.CATALOGUE."""

from __future__ import annotations

HUB_MESSAGES: dict[str, dict[str, str]] = {
    # --- service: HTTP, auth, teacher endpoints (kit/service.py) ---------------
    # --- engine: batching, fine-tune queue, adapter store ----------------------
    # --- client: the kernel side (kit/remote.py) -------------------------------
}
