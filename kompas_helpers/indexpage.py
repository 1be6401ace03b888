"""The year's index of the report set: kommuner by region with their reports, the organisations each supervises with
their scores, and a search that filters the page without a network (a few lines of inline script)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable

from kompas_helpers import danish, fmt, kommuner, navigation, reportset
from kompas_helpers.htmlreport import page
from kompas_helpers.organisation.completeness import COMPLETE_COVERAGE

INDEX_CSS = """
h1 { margin-bottom: 0.2em; }
[hidden] { display: none !important; }
.banner { border: 3px solid #111; background: #fff1b8; padding: 0.6em 0.9em; font-weight: 700; margin: 0.6em 0; }
.meta { color: #333; font-size: 10pt; }
.warn { background: #fde2e1; border-left: 4px solid #b00020; padding: 0.4em 0.8em; }
.kompas-search { margin: 1em 0; }
.kompas-search label { display: block; font-weight: 700; margin-bottom: 0.2em; }
.kompas-search input { font-size: 11pt; padding: 0.3em 0.5em; width: min(30em, 100%); }
.kompas-region h2 { border-bottom: 2px solid #111; margin-top: 1.4em; }
.kompas-kommune { margin: 0 0 1.2em; }
.kompas-kommune h3 { margin: 0.8em 0 0.2em; }
ul.kompas-reports { list-style: none; padding: 0; margin: 0.2em 0; display: flex; flex-wrap: wrap; gap: 0.2em 1.2em; }
table.kompas-organisations { border-collapse: collapse; font-size: 10pt; margin: 0.4em 0; }
table.kompas-organisations caption { text-align: left; font-weight: 700; padding-bottom: 0.2em; }
table.kompas-organisations th, table.kompas-organisations td { border-bottom: 1px solid #bbb; padding: 0.25em 0.6em;
  text-align: left; vertical-align: top; font-weight: normal; }
table.kompas-organisations thead th { border-bottom: 2px solid #111; background: #f0f0f0; font-weight: 700; }
table.kompas-organisations td.num { text-align: right; white-space: nowrap; }
.fail { color: #b00020; font-weight: 700; }
.old { color: #555; font-size: 9pt; }
"""

SEARCH_ID = "kompas-soeg"
# Filters the kommuner and organisations by name or number as the reader types: no network, no library.
SEARCH_SCRIPT = """
(function () {
  var box = document.getElementById("kompas-soeg"), status = document.getElementById("kompas-soeg-status");
  function count(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function filter() {
    var q = box.value.trim().toLowerCase(), shownKommuner = 0, shownOrganisations = 0;
    document.querySelectorAll(".kompas-region").forEach(function (region) {
      var any = false;
      region.querySelectorAll(".kompas-kommune").forEach(function (kommune) {
        var own = !q || kommune.getAttribute("data-search").indexOf(q) >= 0, rows = 0;
        kommune.querySelectorAll("tr[data-search]").forEach(function (row) {
          row.hidden = !(own || row.getAttribute("data-search").indexOf(q) >= 0);
          if (!row.hidden) { rows++; }
        });
        kommune.hidden = !(own || rows > 0);
        if (!kommune.hidden) { any = true; shownKommuner++; shownOrganisations += rows; }
      });
      region.hidden = !any;
    });
    status.textContent = q ? "Søgningen passer på " + count(shownKommuner, "kommune", "kommuner") + " og " +
      count(shownOrganisations, "boligorganisation", "boligorganisationer") + "." : "";
  }
  box.addEventListener("input", filter);
  filter();
})();
"""


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    return danish.timestamp(dt.datetime.fromisoformat(iso))


def _link(folder: str, file: str, text: str, label: str = "") -> str:
    aria = f' aria-label="{html.escape(label)}"' if label else ""
    return f'<a href="{navigation.href(f"{folder}/{file}")}"{aria}>{html.escape(text)}</a>'


def _index_cell(folder: str, output: dict, run_started: str, present, text: str) -> str:
    """A link to one output named `text`, or its status («fejlede», «mangler») with a link to an earlier one."""
    target = next((f for f in output.get("files", []) if f.endswith((".html", ".xlsx"))), None)
    available = target is not None and present(folder, target)
    status = output.get("status")
    if status == "ok" and available:
        cell = _link(folder, target, text)
        if output.get("run_started") != run_started:
            cell += f' <span class="old">({html.escape(_when(output.get("run_started")))})</span>'
        return cell
    word = reportset.STATUS_DA[status] if status in (reportset.FAILED, reportset.INTERRUPTED) else "mangler"
    cell = f'{html.escape(text)}: <span class="fail">{word}</span>'
    if available and output.get("last_ok"):
        cell += f" – {_link(folder, target, 'tidligere udgave', f'{text}, tidligere udgave')} "
        cell += f'<span class="old">({html.escape(_when(output["last_ok"]))})</span>'
    return cell


def _report_order(reports: dict) -> list[str]:
    """The kommune outputs in the order of the report set: the templates, others by name, the Excel file last."""
    prefix = f"{reportset.SHEETS_FOLDER}/"
    names = {name for entry in reports.values() for name in entry["outputs"] if not name.startswith(prefix)}
    known = (*reportset.TEMPLATES, reportset.EXCEL_JOB)
    order = [n for n in reportset.TEMPLATES if n in names] + sorted(names - set(known))
    return order + ([reportset.EXCEL_JOB] if reportset.EXCEL_JOB in names else [])


def _reports_list(entry: dict, order: list[str], run_started: str, present) -> str:
    folder, items = entry["folder"], []
    for name in order:
        output = entry["outputs"].get(name)
        if output is None:
            continue
        label = navigation.KOMMUNE_PAGES.get(name) or (
            navigation.EXCEL_LABEL_DA if name == reportset.EXCEL_JOB else output.get("title", name)
        )
        items.append(f"<li>{_index_cell(folder, output, run_started, present, label)}</li>")
    if present(folder, "overview.pdf"):
        label = f"Oversigt (PDF) for {entry['kommune_name']}"  # contains the visible text (WCAG 2.5.3)
        items.append(f"<li>{_link(folder, 'overview.pdf', 'Oversigt (PDF)', label)}</li>")
    return f'<ul class="kompas-reports">{"".join(items)}</ul>' if items else ""


def _organisation_rows(entry: dict, run_started: str, present) -> list[str]:
    folder, prefix = entry["folder"], f"{reportset.SHEETS_FOLDER}/"
    sheets = {n.removeprefix(prefix): o for n, o in entry["outputs"].items() if n.startswith(prefix)}
    rows = []
    listed = entry.get("organisations", [])
    others = [
        {"stem": stem, "name": output.get("title", stem), "organisation_id": stem.split("-")[0]}
        for stem, output in sorted(sheets.items())
        if stem not in {o["stem"] for o in listed}
    ]
    for org in [*listed, *others]:
        name = f"{org['name']} ({org['organisation_id']})"
        output = sheets.get(org["stem"])
        sheet = f"{prefix}{org['stem']}"
        if output is None:
            cell = f'{html.escape(name)} <span class="old">(intet dialogark)</span>'
        else:
            cell = _index_cell(folder, output, run_started, present, name)
        if present(folder, f"{sheet}.pdf"):
            cell += f" · {_link(folder, f'{sheet}.pdf', 'PDF', f'Dialogarket for {name} som PDF')}"
        if "complete" in org:
            score = f"{org['complete']} af {org['indicators']} målepunkter"
            made = org["agreements"]
            behind = f"{org['not_on_track']} af {made}" if made else "ingen aftaler"
        else:
            score = behind = "–"
        search = html.escape(f"{org['organisation_id']} {org['name']}".lower())
        rows.append(
            f'<tr data-search="{search}"><th scope="row">{cell}</th><td class="num">{score}</td>'
            f'<td class="num">{behind}</td></tr>'
        )
    return rows


def _kommune_section(code: str, entry: dict, order: list[str], run_started: str, present) -> str:
    name = entry["kommune_name"]
    search = html.escape(f"{code} {code.zfill(4)} {name}".lower())
    parts = [
        f'<section class="kompas-kommune" id="{navigation.kommune_anchor(code)}" data-search="{search}">',
        f'<h3>{html.escape(name)} <span class="old">({html.escape(code)})</span></h3>',
        _reports_list(entry, order, run_started, present),
    ]
    rows = _organisation_rows(entry, run_started, present)
    if rows:
        parts.append(
            f'<table class="kompas-organisations"><caption>Boligorganisationer, som {html.escape(name)} fører tilsyn '
            'med</caption><thead><tr><th scope="col">Boligorganisation og dialogark</th>'
            f'<th scope="col">Indberettet for mindst {fmt.percent(COMPLETE_COVERAGE)} af boligerne</th>'
            f'<th scope="col">Aftaler ikke på vej</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    elif "organisations" in entry:
        parts.append(f"<p>{html.escape(name)} fører ikke tilsyn med nogen boligorganisation.</p>")
    parts.append("</section>")
    return "\n".join(parts)


def _regions() -> list[str]:
    """The five regions in Danmarks Statistik's order (that of their lowest kommune code)."""
    first: dict[str, int] = {}
    for kommune in kommuner.all_kommuner():
        first[kommune.region] = min(first.get(kommune.region, 10_000), int(kommune.code))
    return sorted(first, key=first.get)


def region_anchor(region: str) -> str:
    """'region-hovedstaden': the id of a region's section in the index."""
    return reportset.kommune_folder("region", region.removeprefix("Region "))


def index_html(manifest: dict, present: Callable[[str, str], bool]) -> str:
    """The year's index page: kommuner by region, each with its reports and workbook (with their status) and the
    organisations it supervises (their sheets, reporting score and agreements not on track); Danish, self-contained.

    `present(folder, file)` tells whether an output file exists (a failed report may still have an earlier one, a
    PDF is linked only when it is there).
    """
    run, reports = manifest["run"], manifest["reports"]
    order = _report_order(reports)
    failed = sum(o.get("status") != "ok" for entry in reports.values() for o in entry["outputs"].values())
    by_region: dict[str, list[str]] = {}
    for code, entry in sorted(reports.items(), key=lambda item: danish.sort_key(item[1]["kommune_name"])):
        by_region.setdefault(entry["region"], []).append(_kommune_section(code, entry, order, run["started"], present))
    regions = [r for r in _regions() if r in by_region] + sorted(set(by_region) - set(_regions()))
    counts = run["counts"]
    title = f"AlmenKompas – rapporter for {manifest['year']}"
    parts = [f"<style>{INDEX_CSS}</style>", f"<h1>{html.escape(title)}</h1>"]
    if manifest.get("synthetic"):
        parts.append(f'<p class="banner">{html.escape(fmt.SYNTHETIC_BANNER_DA)}</p>')
    total = sum(counts.values())
    parts.append(
        f'<p class="meta">Seneste kørsel {html.escape(_when(run["started"]))}: {counts["ok"]} af {total} rapporter '
        f"og regneark lavet, {counts['failed']} fejlede"
        + (f", {counts['interrupted']} afbrudt" if counts.get("interrupted") else "")
        + f". {len(reports)} kommuner i alt. Datasæt {html.escape(manifest['data_hash'][:12])}.</p>"
    )
    if present("", reportset.NATIONAL_EXCEL_FILE):
        name = reportset.NATIONAL_EXCEL_FILE
        national = f'<a href="{navigation.href(name)}">{html.escape(name)}</a>'
        parts.append(f'<p class="meta">Alle kommuners nøgletal i ét regneark: {national}.</p>')
    if failed:
        parts.append(
            f'<p class="warn">{failed} rapporter eller regneark blev ikke lavet i den seneste kørsel. Hvor der findes '
            "en tidligere udgave, kan den stadig åbnes; detaljer står i manifest.json.</p>"
        )
    parts.append(
        f'<div class="kompas-search" role="search"><label for="{SEARCH_ID}">Søg efter kommune eller '
        f'boligorganisation (navn eller nummer)</label><input type="search" id="{SEARCH_ID}" autocomplete="off">'
        f'<p id="{SEARCH_ID}-status" class="meta" aria-live="polite"></p></div>'
    )
    for region in regions:
        anchor = region_anchor(region)
        parts.append(
            f'<section class="kompas-region" id="{anchor}" aria-labelledby="{anchor}-h"><h2 id="{anchor}-h">'
            f"{html.escape(region)}</h2>\n" + "\n".join(by_region[region]) + "</section>"
        )
    parts.append(f"<script>{SEARCH_SCRIPT}</script>")
    footer = f"AlmenKompas-arbejdsbogen {html.escape(manifest['package_version'])}"
    nav = navigation.index_nav([(region_anchor(r), r) for r in regions])
    return page(title, "\n".join(parts), footer, nav)
