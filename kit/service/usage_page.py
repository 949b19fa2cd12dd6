"""The teacher's usage page: today's usage per student, as a table and a bar chart."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime, timedelta
from html import escape

from kit import messages
from kit.errors import KitError
from kit.ledger.amounts import KINDS, number

CHART_KINDS = ("tokens", "generations")  # what a class mostly spends


def limit_json(value: float | None) -> float | None:
    """Return a limit for JSON: a whole number when it is one, null when unlimited."""
    return None if value is None else (int(value) if value == int(value) else value)


def class_usage(service, day_text: str | None) -> dict:
    """Return usage per student on a day (default today) next to their limits."""
    policy = service.policy()
    today = datetime.now(policy.zone).date()
    try:
        day = date.fromisoformat(day_text) if day_text else today
    except ValueError:
        raise KitError("service_bad_day", value=day_text) from None
    usage = service.ledger.usage_by_student(day.isoformat())
    names = sorted(set(usage) | set(policy.students))
    zeros = {k: 0.0 for k in KINDS}
    return {
        "day": day.isoformat(),
        "reset": f"{day + timedelta(days=1)} 00:00 ({policy.zone_name})",
        "students": {name: usage.get(name, zeros) for name in names},
        "limits": {
            name: {k: limit_json(v) for k, v in policy.limits_for(name).items()}
            for name in names
        },
        "class": {k: limit_json(v) for k, v in policy.limits.items()},
    }


def cell(used: float, limit: float | None, lang: str) -> str:
    shown = messages.t("unlimited", lang) if limit is None else number(limit)
    full = limit is not None and used >= limit
    style = " style='color:#b91c1c;font-weight:bold'" if full else ""
    return f"<td{style}>{escape(number(used))} / {escape(shown)}</td>"


def usage_chart(usage: dict, lang: str) -> str:
    """Return a PNG bar chart (base64) of tokens and generations used per student."""
    import koreanize_matplotlib  # noqa: F401  (Hangul names and labels)
    from matplotlib.figure import Figure  # no pyplot: safe off the main thread

    names = list(usage["students"])
    height = 1.2 + 0.32 * max(1, len(names))
    figure = Figure(figsize=(9, height), layout="constrained")
    axes = figure.subplots(1, len(CHART_KINDS), sharey=True)
    for ax, kind in zip(axes, CHART_KINDS):
        used = [usage["students"][n][kind] for n in names]
        limits = [usage["limits"][n][kind] for n in names]
        full = [lim is not None and u >= lim for u, lim in zip(used, limits)]
        colours = ["#ef4444" if f else "#60a5fa" for f in full]
        ax.barh(names, used, color=colours)
        for y, limit in enumerate(limits):
            if limit is not None:  # the student's limit, as a mark on their bar
                ax.plot([limit, limit], [y - 0.4, y + 0.4], color="#111827", lw=2)
        ax.set_title(messages.t(f"kind_{kind}", lang))
        ax.invert_yaxis()  # first name on top, as in the table
    axes[0].set_xlabel(messages.t("service_usage_chart_note", lang))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def render_usage(usage: dict, lang: str) -> str:
    """Return the HTML page of a day's usage (every name escaped)."""
    t = messages.t
    title = t("service_usage_title", lang, day=usage["day"])
    head = "".join(f"<th>{escape(t(f'kind_{k}', lang))}</th>" for k in KINDS)
    rows = "".join(
        f"<tr><th scope='row'>{escape(name)}</th>"
        + "".join(cell(used[k], usage["limits"][name][k], lang) for k in KINDS)
        + "</tr>"
        for name, used in usage["students"].items()
    )
    if usage["students"]:
        chart = usage_chart(usage, lang)
        body = (
            f"<img alt='{escape(t('service_usage_chart_alt', lang))}' "
            f"src='data:image/png;base64,{chart}'>"
            f"<table><thead><tr><th>{escape(t('service_usage_student', lang))}</th>"
            f"{head}</tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        body = f"<p>{escape(t('service_usage_empty', lang, day=usage['day']))}</p>"
    note = t("service_usage_note", lang, reset=usage["reset"])
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(note)}</p>{body}</body></html>"
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#111827}"
    "table{border-collapse:collapse;margin-top:1em}"
    "th,td{border:1px solid #d1d5db;padding:4px 10px;text-align:right}"
    "th[scope=row]{text-align:left}img{max-width:100%}"
)
