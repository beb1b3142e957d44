"""The report page: one HTML file, styles and script inline, plots as data URIs, nothing fetched.

Every string that comes from a record or a labels file goes through `html.escape`; on top of
that, a Content-Security-Policy allows only this page's own script (by hash), inline styles and
data: images, so even markup that slipped through escaping could not run or load anything.
"""
from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from html import escape
from typing import Any, Sequence

from .blocks import blocks_of
from .collect import SEVERITY_ORDER, RunView
from .highlight import highlight

__all__ = ["render_page", "anchor"]

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 16px 48px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th.sortable{cursor:pointer;background:#f4f4f4}th.sortable:after{content:" \\2195";color:#999}
td.n,th.n{text-align:right}.grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
pre{white-space:pre-wrap;word-break:break-all;background:#f8f8f8;padding:6px;margin:2px 0;font:12px/1.4 ui-monospace,monospace}
mark.ev{background:#ffb3a7;outline:1px solid #c0392b}mark.ev.req{background:#c8e6c9;outline:1px dashed #2e7d32}
.msg{border-left:3px solid #bbb;padding:2px 8px;margin:6px 0}.msg.assistant{border-color:#2c3e50}
.msg.tool{border-color:#7f8c8d}.msg.user,.msg.system,.msg.task{border-color:#2980b9}
.role{font-weight:600;font-size:12px;color:#555}.lbl{font-size:11px;color:#777}
.decoded{margin:2px 0 6px 16px;font-size:12px;border-left:3px solid #e67e22;padding-left:8px}
.cut{color:#999;font-style:italic}.traj{border:1px solid #ddd;border-radius:4px;padding:8px 12px;margin:16px 0}
.tag{display:inline-block;background:#eee;border-radius:3px;padding:0 5px;margin-right:4px;font-size:12px}
.req-tag{background:#c8e6c9}.note{color:#666}
"""

SCRIPT = """
(function(){
  function key(td){var v=td.getAttribute('data-sort');return v===null?td.textContent:v;}
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th.sortable').forEach(function(th,col){
      th.addEventListener('click',function(){
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var asc=th.getAttribute('data-dir')!=='asc';th.setAttribute('data-dir',asc?'asc':'desc');
        var numeric=th.classList.contains('n');
        rows.sort(function(a,b){var x=key(a.cells[col]),y=key(b.cells[col]);
          var c=numeric?(parseFloat(x)-parseFloat(y)):(x<y?-1:x>y?1:0);return asc?c:-c;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
  document.body.setAttribute('data-ready','1');
})();
"""


def anchor(record_id: str) -> str:
    """An element id for a record that no record id can break out of."""
    return "t-" + hashlib.sha256(record_id.encode("utf-8")).hexdigest()[:16]


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
    return (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
            "base-uri 'none'; form-action 'none'")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, sortable: bool = False,
           numeric: Sequence[int] = (), table_id: str = "") -> str:
    """A table of already-safe HTML cells (callers escape); numeric columns right-aligned."""
    cls = ' class="sortable"' if sortable else ""
    tid = f' id="{table_id}"' if table_id else ""
    head = "".join(f'<th class="{"sortable " if sortable else ""}{"n" if i in numeric else ""}">{escape(h)}</th>'
                   for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(c if str(c).startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table{cls}{tid}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _num(n: Any, sort: Any = None) -> str:
    return f'<td class="n" data-sort="{escape(str(n if sort is None else sort))}">{escape(str(n))}</td>'


def _img(uri: str | None, alt: str) -> str:
    return f'<img alt="{escape(alt)}" src="{uri}">' if uri else f'<p class="note">{escape(alt)}: nothing to plot</p>'


def _counts(view: RunView) -> str:
    c = view.manifest.get("counts", {})
    keys = ("input", "clean", "unsafe", "invalid", "requested_findings", "analysis_incomplete")
    cells = "".join(f'<tr><th>{k}</th><td class="n" data-count="{k}">{escape(str(c.get(k, 0)))}</td></tr>' for k in keys)
    return f'<table id="counts">{cells}</table>'


def _findings_list(findings: list[dict[str, Any]]) -> str:
    rows = []
    for f in findings:
        score = f.get("score")
        rows.append([
            escape(str(f.get("rule_id", ""))), escape(str(f.get("category", ""))), escape(str(f.get("detector", ""))),
            _num(f"{score:.2f}" if isinstance(score, (int, float)) else "", score),
            escape(str(f.get("severity", ""))),
            f"{int(f.get('message_index') or 0)} <span class=lbl>{escape(str(f.get('field', '')))}</span>",
            f"<pre>{escape(str(f.get('evidence', '')))}</pre>"
            + (f'<span class="tag">decoded from {escape(str(f["decoded_from"]))}</span>' if f.get("decoded_from") else "")
            + ('<span class="tag req-tag">requested</span>' if f.get("requested") else ""),
        ])
    return _table(["rule", "category", "detector", "score", "severity", "message / field", "evidence"], rows)


def _conversation(view: RunView, rid: str) -> str:
    item = view.shown[rid]
    findings = [f for f in (item.safety or {}).get("findings") or () if isinstance(f, dict)]
    at: dict[tuple[Any, Any], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        at[(f.get("message_index"), f.get("field"))].append(f)
    placed: set[tuple[Any, Any]] = set()
    parts = []
    current = None
    for block in blocks_of(item.record):
        here = at.get((block.message_index, block.field), []) if block.message_index >= 0 else []
        if here:
            placed.add((block.message_index, block.field))
        if (block.message_index, block.role) != current:
            if current is not None:
                parts.append("</div>")
            current = (block.message_index, block.role)
            idx = "" if block.message_index < 0 else f" #{block.message_index}"
            parts.append(f'<div class="msg {escape(block.role.lower())}"><div class="role">'
                         f'{escape(block.role)}{idx}</div>')
        parts.append(f'<div class="lbl">{escape(block.label)}</div><pre>{highlight(block.text, here)}</pre>')
        for f in here:
            if f.get("decoded_from"):
                parts.append(f'<div class="decoded">decoded ({escape(str(f["decoded_from"]))}) of the marked text: '
                             f'<pre>{escape(str(f.get("evidence", "")))}</pre></div>')
    if current is not None:
        parts.append("</div>")
    safety = item.safety or {}
    unplaced = [f for f in findings if (f.get("message_index"), f.get("field")) not in placed]
    head = (f'<h3>{escape(rid)}</h3><p><span class="tag">{escape(item.output)}</span>'
            + "".join(f'<span class="tag">{escape(str(c))}</span>' for c in safety.get("categories") or ())
            + (f' severity <b>{escape(str(safety.get("severity")))}</b>' if safety.get("severity") else "")
            + f' <span class="lbl">{escape(item.shard)}:{item.line}</span></p>')
    extra = ("<p class=note>Findings not placed in the text above (their field was not found):</p>"
             + _findings_list(unplaced)) if unplaced else ""
    return (f'<section class="traj" id="{anchor(rid)}">{head}{_findings_list(findings) if findings else ""}'
            f'{extra}{"".join(parts)}</section>')


def _link(view: RunView, rid: str) -> str:
    return f'<a href="#{anchor(rid)}">{escape(rid)}</a>' if rid in view.shown else escape(rid)


def _labels_section(view: RunView, scored: dict[str, Any]) -> str:
    def fmt(x: Any) -> str:
        return "-" if x is None else f"{x:.3f}"

    rows = [["<b>unsafe (any)</b>", _num(fmt(scored["overall"]["precision"])), _num(fmt(scored["overall"]["recall"])),
             _num(scored["overall"]["tp"]), _num(scored["overall"]["fp"]), _num(scored["overall"]["fn"])]]
    for c, m in scored["categories"].items():
        rows.append([escape(c), _num(fmt(m["precision"])), _num(fmt(m["recall"])), _num(m["tp"]), _num(m["fp"]),
                     _num(m["fn"])])
    out = [f'<h2 id="labels">Against the labels ({scored["judged"]} labeled records in the run)</h2>',
           _table(["", "precision", "recall", "TP", "FP", "FN"], rows, numeric=(1, 2, 3, 4, 5), table_id="metrics")]
    for key, title in (("false_alarms", "False alarms"), ("missed", "Missed"), ("wrong_category", "Wrong categories")):
        ids = scored[key]
        out.append(f"<p><b>{title}</b> ({len(ids)}): " + (", ".join(_link(view, i) for i in ids) or "none") + "</p>")
    if scored["not_in_run"]:
        out.append(f'<p class="note">{len(scored["not_in_run"])} labeled ids are not among the run\'s clean or unsafe '
                   "records (invalid, or another input).</p>")
    return "".join(out)


def _scores_note(view: RunView) -> str:
    """What the score plot is drawn from, in words: it differs between runs with and without a classifier."""
    c = view.manifest.get("counts", {})
    if not view.manifest.get("classifier"):
        return "No classifier ran in this run (rules only), so there are no scores."
    hist = view.score_histogram
    if hist is None:
        return ("This run kept no score histogram (made before it did): the plot shows the scores of stored "
                "findings only, i.e. those over the threshold in unsafe records.")
    scanned = int(c.get("clean", 0)) + int(c.get("unsafe", 0))
    return (f"Highest classifier score per trajectory and category, over {hist['scored']} scored of {scanned} "
            "scanned trajectories, clean ones included (log scale). Not scored: trajectories with no action the "
            "classifier reads, and, with the `undecided` gate, those the rules had already flagged.")


def render_page(view: RunView, *, plots: dict[str, str | None], scored: dict[str, Any] | None,
                per_category: int, table_cap: int) -> str:
    """The whole report as one string."""
    m = view.manifest
    c = m.get("counts", {})
    cats = c.get("categories", {})
    rules = sorted((c.get("rules") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    rows = view.rows  # already in page order, at most table_cap
    table_rows = [[_link(view, r["id"]), _num(r["severity"], SEVERITY_ORDER.get(r["severity"], 0)),
                   escape(", ".join(r["categories"]) or ("analysis cut short" if r["incomplete"] else "")),
                   _num(r["findings"]), _num(r["requested"]), escape(", ".join(r["rules"][:6]))
                   + (" ..." if len(r["rules"]) > 6 else "")] for r in rows[:table_cap]]
    shown_order = sorted(view.shown, key=lambda i: (view.shown[i].output != "unsafe", -SEVERITY_ORDER.get(
        str((view.shown[i].safety or {}).get("severity") or ""), 0), i))  # unsafe, most severe first; then clean
    body = [
        f"<h1>safefilter run report</h1><p class=note>run fingerprint {escape(str(m.get('run_fingerprint', '?')))}"
        f" &middot; {escape(' '.join(map(str, m.get('command') or [])))}</p>",
        '<h2>Counts</h2><div class="grid">', _counts(view),
        _table(["category", "unsafe records"], [[escape(k), _num(v)] for k, v in cats.items()], numeric=(1,),
               table_id="categories"),
        _img(plots.get("categories"), "unsafe records per category"), "</div>",
        '<h2>Rules and detectors that fired most</h2><div class="grid">',
        _table(["rule", "records"], [[escape(k), _num(v)] for k, v in rules[:15]], numeric=(1,), table_id="rules"),
        _table(["detector", "findings in unsafe records"], [[escape(k), _num(v)] for k, v in
                                                            sorted(view.detectors.items())], numeric=(1,)),
        _img(plots.get("rules"), "top rules"), "</div>",
        f'<h2>Classifier scores</h2><p class=note id="scores-note">{escape(_scores_note(view))}</p>',
        _img(plots.get("scores"), "classifier scores"),
    ]
    if scored is not None:
        body.append(_labels_section(view, scored))
    body += [
        f'<h2>Unsafe trajectories ({view.unsafe_total})</h2><p class=note>Click a column to sort. '
        f"Conversations below: at most {per_category} per category, most severe first"
        + (f"; the table shows the first {table_cap}" if view.unsafe_total > table_cap else "") + ".</p>",
        _table(["id", "severity", "categories", "findings", "requested", "rules"], table_rows, sortable=True,
               numeric=(1, 3, 4), table_id="unsafe-table"),
        "<h2>Conversations</h2><p class=note>Evidence is <mark class=ev>marked</mark> where it is in the record; "
        "findings the task asked for are <mark class='ev req'>marked green</mark>; text decoded from an encoding is "
        "shown under the encoded original.</p>",
        *(_conversation(view, rid) for rid in shown_order),
    ]
    if view.warnings:
        body.append("<h2>Warnings</h2><ul>" + "".join(f"<li>{escape(w)}</li>" for w in view.warnings[:50]) + "</ul>")
    return ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f'<meta http-equiv="Content-Security-Policy" content="{_csp()}">'
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>safefilter report</title><style>{STYLE}</style></head><body>{''.join(body)}"
            f"<script>{SCRIPT}</script></body></html>")
