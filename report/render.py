"""Write a `Report` as CSV (one row per conversation and profile), JSON (everything, with totals),
HTML (one self-contained file: inline CSS, an inline SVG chart, a few lines of inline JavaScript to
filter the tables; nothing is fetched from the network) or a plain-text summary for the terminal."""

from __future__ import annotations

import csv
import html
import io
import json
import logging
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from report.collect import NOTHING_EXPORTED, OUTCOMES, ConversationResult, Report

logger = logging.getLogger(__name__)

FORMATS = ("csv", "json", "html")
PALETTE = ("#1f6feb", "#2da44e", "#bf8700", "#8250df", "#cf222e", "#0a7ea4", "#e16f24", "#6e7781")
FOUND_COLOUR = "#afb8c1"


def write(report: Report, path: Path) -> Path:
    """Write the report in the format of `path`'s extension (.csv, .json, .html)."""
    fmt = path.suffix.lower().lstrip(".")
    text = {"csv": to_csv, "json": to_json, "html": to_html}[fmt](report)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8", newline="")
    tmp.replace(path)
    logger.info("report written to %s (%d conversations)", path, len(report.conversations))
    return path


# -- CSV / JSON ------------------------------------------------------------------------------------------
CSV_COLUMNS = (
    "day",
    "conversation_id",
    "conversation_start",
    "conversation_end",
    "queues",
    "direction",
    "profile",
    "in_scope",
    "outcome",
    "reason",
    "audio_status",
    "transcript_status",
    "status_written_back",
    "status_source",
    "files",
)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for conv in report.conversations:
        for r in conv.profiles:
            writer.writerow(
                [
                    conv.day.isoformat(),
                    conv.conversation_id,
                    conv.start,
                    conv.end,
                    "; ".join(conv.queues),
                    conv.direction,
                    r.profile,
                    "yes" if r.in_scope else "no",
                    r.outcome,
                    r.reason,
                    r.audio_status,
                    r.transcript_status,
                    r.written_back,
                    r.source,
                    "; ".join(r.files),
                ]
            )
    return out.getvalue()


def as_dict(report: Report) -> dict[str, Any]:
    by_day = report.totals_by_day()
    return {
        "interval": {
            "from": report.request.start.isoformat(),
            "to": report.request.end.isoformat(),
            "timezone": "UTC",
        },
        "generated_at": report.generated_at.isoformat(),
        "api_url": report.api_url,
        "profiles": report.profiles,
        "queues": report.queues,
        "data_availability": report.data_availability,
        "api_requests": report.api_requests,
        "ledger_used": report.ledger_used,
        "totals": {
            "found": len(report.conversations),
            "by_profile": {
                p: {o: c.get(o, 0) for o in OUTCOMES} for p, c in report.totals_by_profile().items()
            },
            "by_day": {
                d.isoformat(): {
                    "found": v["found"],
                    "profiles": {p: {o: c.get(o, 0) for o in OUTCOMES} for p, c in v["profiles"].items()},
                }
                for d, v in by_day.items()
            },
        },
        "conversations": [
            {
                "conversation_id": c.conversation_id,
                "day": c.day.isoformat(),
                "start": c.start,
                "end": c.end,
                "queues": c.queues,
                "direction": c.direction,
                "recording": c.recording,
                "profiles": [
                    {
                        "profile": r.profile,
                        "in_scope": r.in_scope,
                        "outcome": r.outcome,
                        "reason": r.reason,
                        "audio_status": r.audio_status,
                        "transcript_status": r.transcript_status,
                        "status_written_back": r.written_back,
                        "status_source": r.source,
                        "files": r.files,
                    }
                    for r in c.profiles
                ],
            }
            for c in report.conversations
        ],
    }


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False) + "\n"


# -- text ------------------------------------------------------------------------------------------------
def to_text(report: Report) -> str:
    lines = [
        f"Calls that ended {report.request.start.date()} .. {_last_day(report)} (UTC) in "
        f"{len(report.queues)} watched queue(s): {len(report.conversations)}",
        "",
        f"{'profile':<24}{'in scope':>9}{'exported':>10}  not exported (by reason)",
    ]
    for profile, counts in report.totals_by_profile().items():
        in_scope = sum(v for k, v in counts.items() if k != "out of scope")
        rest = ", ".join(f"{o}: {counts[o]}" for o in NOTHING_EXPORTED if counts.get(o))
        lines.append(f"{profile:<24}{in_scope:>9}{counts.get('exported', 0):>10}  {rest or '-'}")
    lines.append("")
    for day, totals in report.totals_by_day().items():
        parts = [
            f"{p}: {c.get('exported', 0)}/{sum(v for k, v in c.items() if k != 'out of scope')}"
            for p, c in totals["profiles"].items()
        ]
        lines.append(f"{day}  found {totals['found']:>5}  exported/in scope  " + "  ".join(parts))
    return "\n".join(lines) + "\n"


def _last_day(report: Report) -> date:
    return report.days()[-1]


# -- HTML ------------------------------------------------------------------------------------------------
CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --bad:#cf222e; --ok:#1a7f37; --warn:#9a6700; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0; background: #fff; }
header { background: #24292f; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #d0d7de; }
main { padding: 24px 32px 48px; max-width: 1280px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-top: 8px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; min-width: 170px; background: var(--bg); }
.card .n { font-size: 28px; font-weight: 600; }
.card .l { color: var(--muted); }
.card.bad .n { color: var(--bad); } .card.ok .n { color: var(--ok); }
table { border-collapse: collapse; width: 100%; margin-top: 8px; font-size: 14px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.o-exported { color: var(--ok); font-weight: 600; }
.o-failed { color: var(--bad); font-weight: 600; }
.o-pending { color: var(--warn); font-weight: 600; }
.o-not-exported, .o-not-recorded, .o-recording-unavailable { color: var(--warn); }
.o-out-of-scope { color: var(--muted); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
.legend span { display: inline-block; margin-right: 16px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 6px; vertical-align: -1px; border-radius: 2px; }
.note { color: var(--muted); }
input[type=search] { padding: 6px 10px; width: 320px; border: 1px solid var(--line); border-radius: 6px; font-size: 14px; }
@media print { header { background: #fff; color: #000; } header p { color: #333; } th { position: static; }
               input { display: none; } }
"""

SCRIPT = """
function filterTable(input, id) {
  var q = input.value.toLowerCase();
  var rows = document.getElementById(id).tBodies[0].rows;
  for (var i = 0; i < rows.length; i++) {
    rows[i].style.display = rows[i].textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
  }
}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _outcome(outcome: str) -> str:
    return f'<span class="o-{outcome.replace(" ", "-")}">{_e(outcome)}</span>'


def chart_svg(report: Report) -> str:
    """Per day: calls found (grey) and calls exported per profile (one colour each), grouped bars."""
    totals = report.totals_by_day()
    days = list(totals)
    series = ["found", *report.profiles]
    colours = [FOUND_COLOUR, *(PALETTE[i % len(PALETTE)] for i in range(len(report.profiles)))]
    values = [[totals[d]["found"] for d in days]] + [
        [totals[d]["profiles"][p].get("exported", 0) for d in days] for p in report.profiles
    ]
    peak = max([1, *(v for row in values for v in row)])
    step = _nice_step(peak)
    top = step * -(-peak // step)
    left, right, upper, lower = 56, 16, 24, 56
    group = max(36, min(200, 1000 // max(1, len(days))))
    width = left + right + group * len(days)
    height = 320
    plot_h = height - upper - lower
    bar_w = max(3.0, (group - 10) / len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="chart-title">',
        '<title id="chart-title">Calls found and exported per day and profile</title>',
    ]
    for tick in range(0, top + 1, step):
        y = upper + plot_h - plot_h * tick / top
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e6e9ec"/>')
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="#59636e">{tick}</text>'
        )
    for i, day in enumerate(days):
        x0 = left + group * i + 5
        for s, row in enumerate(values):
            h = plot_h * row[i] / top
            x = x0 + bar_w * s
            label = f"{day}: {series[s]} {'found' if s == 0 else 'exported'} {row[i]}"
            parts.append(
                f'<rect class="bar" data-series="{_e(series[s])}" data-day="{day}" data-value="{row[i]}" '
                f'x="{x:.1f}" y="{upper + plot_h - h:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" '
                f'fill="{colours[s]}"><title>{_e(label)}</title></rect>'
            )
            if bar_w >= 14:
                parts.append(
                    f'<text x="{x + (bar_w - 1) / 2:.1f}" y="{upper + plot_h - h - 4:.1f}" text-anchor="middle" '
                    f'font-size="11" fill="#1f2328">{row[i]}</text>'
                )
        parts.append(
            f'<text x="{x0 + (group - 10) / 2:.1f}" y="{height - lower + 18}" text-anchor="middle" '
            f'font-size="12" fill="#1f2328">{day.strftime("%d %b")}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{upper + plot_h}" y2="{upper + plot_h}" stroke="#59636e"/>'
    )
    parts.append(
        f'<text x="{left}" y="{height - 12}" font-size="12" fill="#59636e">Calls per day (UTC); '
        "grey: found in watched queues, colours: exported per profile</text>"
    )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i style="background:{c}"></i>{_e(name if i else "calls found")}</span>'
        for i, (name, c) in enumerate(zip(series, colours, strict=True))
    )
    return f'<div class="chart">{"".join(parts)}<div class="legend">{legend}</div></div>'


def _nice_step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if peak / step <= 6:
            return step
    return 10 ** len(str(peak))


def to_html(report: Report) -> str:
    by_profile = report.totals_by_profile()
    found = len(report.conversations)
    exceptions = report.exceptions()
    first, last = report.request.start.date(), _last_day(report)
    cards = [
        f'<div class="card"><div class="n">{found}</div><div class="l">calls in watched queues</div></div>'
    ]
    for profile, counts in by_profile.items():
        in_scope = sum(v for k, v in counts.items() if k != "out of scope")
        missing = sum(counts.get(o, 0) for o in NOTHING_EXPORTED)
        cls = "bad" if missing else "ok"
        cards.append(
            f'<div class="card {cls}"><div class="n">{counts.get("exported", 0)} / {in_scope}</div>'
            f'<div class="l">{_e(profile)}: exported / in scope</div></div>'
        )
    profile_rows = "".join(
        "<tr><td>"
        + _e(p)
        + "</td>"
        + f'<td class="num">{sum(v for k, v in c.items() if k != "out of scope")}</td>'
        + "".join(f'<td class="num">{c.get(o, 0)}</td>' for o in OUTCOMES)
        + "</tr>"
        for p, c in by_profile.items()
    )
    day_rows = []
    for day, totals in report.totals_by_day().items():
        cells = "".join(
            f'<td class="num">{c.get("exported", 0)} / {sum(v for k, v in c.items() if k != "out of scope")}</td>'
            for c in totals["profiles"].values()
        )
        missing = sum(c.get(o, 0) for c in totals["profiles"].values() for o in NOTHING_EXPORTED)
        day_rows.append(
            f'<tr><td>{day.isoformat()}</td><td class="num">{totals["found"]}</td>{cells}'
            f'<td class="num">{missing}</td></tr>'
        )
    exception_rows = "".join(
        f'<tr><td>{conv.day}</td><td class="mono">{_e(conv.conversation_id)}</td><td>{_e(", ".join(conv.queues))}</td>'
        f"<td>{_e(r.profile)}</td><td>{_outcome(r.outcome)}</td><td>{_e(r.reason)}</td></tr>"
        for conv, r in exceptions
    )
    all_rows = "".join(_conversation_rows(conv) for conv in report.conversations)
    reasons = Counter(r.outcome for _, r in exceptions)
    summary = (
        "Every in-scope call was exported."
        if not exceptions
        else "Not exported: "
        + ", ".join(f"{n} {o}" for o, n in reasons.most_common())
        + " (see the list below)."
    )
    profile_heads = "".join(f'<th class="num">{_e(p)}<br>exported / in scope</th>' for p in report.profiles)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Call export report {first} – {last}</title>
<style>{CSS}</style></head>
<body>
<header><h1>Call export report</h1>
<p>Calls that ended from {first} to {last} (UTC) in the watched queues: {_e(", ".join(report.queues))}.
Generated {report.generated_at.strftime("%Y-%m-%d %H:%M UTC")} from Genesys Cloud ({_e(report.api_url)})
{"and the service's export ledger" if report.ledger_used else "(no export ledger was available: statuses come from Genesys Cloud only)"}.</p></header>
<main>
<section id="summary"><h2>Summary</h2><div class="cards">{"".join(cards)}</div>
<p id="verdict">{_e(summary)}</p></section>
<section id="per-day"><h2>Calls found and exported per day</h2>{chart_svg(report)}
<table id="days"><thead><tr><th>Day</th><th class="num">Calls found</th>{profile_heads}<th class="num">Not exported</th></tr></thead>
<tbody>{"".join(day_rows)}</tbody></table></section>
<section id="per-profile"><h2>Totals per profile</h2>
<table id="profiles"><thead><tr><th>Profile</th><th class="num">In scope</th>{"".join(f'<th class="num">{_e(o)}</th>' for o in OUTCOMES)}</tr></thead>
<tbody>{profile_rows}</tbody></table></section>
<section id="exceptions"><h2>In scope but not exported ({len(exceptions)})</h2>
<p class="note">What was not exported and why. "Not recorded": Genesys Cloud has no recording.
"Recording unavailable": archived or deleted in Genesys Cloud. "Pending": the service is still working
on it. "Failed": the cause is given. "Not exported": nothing was attempted; run the backfill.</p>
<input type="search" placeholder="Filter…" oninput="filterTable(this, 'exception-table')">
<table id="exception-table"><thead><tr><th>Day</th><th>Conversation</th><th>Queues</th><th>Profile</th><th>Outcome</th><th>Reason</th></tr></thead>
<tbody>{exception_rows}</tbody></table></section>
<section id="conversations"><h2>All calls ({found})</h2>
<input type="search" placeholder="Filter…" oninput="filterTable(this, 'conversation-table')">
<table id="conversation-table"><thead><tr><th>Ended (UTC)</th><th>Conversation</th><th>Queues</th><th>Profile</th>
<th>Outcome</th><th>Files written</th><th>Status written back</th><th>Reason</th></tr></thead>
<tbody>{all_rows}</tbody></table></section>
<p class="note">{report.api_requests} Genesys Cloud API requests.
{"Analytics data settled up to " + _e(report.data_availability) + "; later calls came from the live query." if report.data_availability else ""}</p>
</main>
<script>{SCRIPT}</script>
</body></html>
"""


def _conversation_rows(conv: ConversationResult) -> str:
    ended = _e(conv.end[:19].replace("T", " "))
    return "".join(
        f'<tr><td>{ended}</td><td class="mono">{_e(conv.conversation_id)}</td><td>{_e(", ".join(conv.queues))}</td>'
        f"<td>{_e(r.profile)}</td><td>{_outcome(r.outcome)}</td>"
        f'<td class="mono">{_e("; ".join(r.files))}</td><td>{_e(r.written_back)}</td><td>{_e(r.reason)}</td></tr>'
        for r in conv.profiles
    )
