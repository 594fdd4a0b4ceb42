// The dashboard's first page: overview tiles and two top lists from the stats API.
// Site and token come from the URL hash (#site=demo&token=…) or the inputs, and stay in this tab.
const $ = (sel) => document.querySelector(sel);
const hash = new URLSearchParams(location.hash.slice(1));
$("#site").value = hash.get("site") || sessionStorage.getItem("sl_dash_site") || "demo";
$("#token").value = hash.get("token") || sessionStorage.getItem("sl_dash_token") || "";
if (hash.has("token")) history.replaceState(null, "", location.pathname);

const formats = {
  bounce_rate: (v) => `${v}%`,
  visit_duration: (v) => (v >= 60 ? `${Math.floor(v / 60)}m ${v % 60}s` : `${v}s`),
};

async function report(name) {
  const site = encodeURIComponent($("#site").value.trim());
  const res = await fetch(`/api/sites/${site}/stats/${name}?period=${$("#period").value}`, {
    headers: { Authorization: `Bearer ${$("#token").value.trim()}` },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.message || body.error || res.statusText);
  return body;
}

function fillTable(id, rows) {
  const tbody = $(`#${id} tbody`);
  tbody.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement("tr");
      for (const v of [r.value, r.visitors, r.count]) {
        const td = document.createElement("td");
        td.textContent = String(v);
        tr.append(td);
      }
      return tr;
    }),
  );
}

async function load() {
  sessionStorage.setItem("sl_dash_site", $("#site").value.trim());
  sessionStorage.setItem("sl_dash_token", $("#token").value.trim());
  $("#status").textContent = "Loading…";
  $("#status").className = "";
  try {
    const [overview, pages, events] = await Promise.all([report("overview"), report("pages"), report("events")]);
    for (const el of document.querySelectorAll("[data-metric]")) {
      const key = el.dataset.metric;
      el.textContent = (formats[key] || String)(overview[key]);
    }
    // Delivery health: events visitors' browsers had to drop unsent (their outbox was full offline).
    const lost = overview.lost_in_browser;
    $("#lost").hidden = !lost;
    $("#lost").textContent = `${lost} event${lost === 1 ? "" : "s"} lost in visitors' browsers before they could be sent (outbox full while offline)`;
    fillTable("pages", pages.results);
    fillTable("events", events.results);
    $("#status").textContent = `${overview.range.from} – ${overview.range.to}`;
  } catch (e) {
    $("#status").textContent = `Could not load: ${e.message}`;
    $("#status").className = "error";
  }
}

$("#load").addEventListener("click", load);
$("#period").addEventListener("change", load);
if ($("#token").value) load();
