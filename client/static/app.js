// The shopper page's script: search as you type (with each item's best price nearby), the
// list (add, quantity, remove, swap for a cheaper alternative), the list kept across
// reloads in localStorage, and "use my location" (taken at once on a first visit when the
// browser has already been allowed to share it; never asked for unprompted). It talks only to the
// page's own server (/items); the API key never reaches the browser.
"use strict";

const STORE_KEY = "grocery-deals:list";  // [{id, name, size, qty}]
const DEBOUNCE_MS = 250;                 // wait for a pause in typing: each search costs a call
const MAX_QTY = 99;

document.addEventListener("DOMContentLoaded", () => {
  const $ = (selector) => document.querySelector(selector);
  const form = $("#shop");
  const search = $("#search");
  const results = $("#results");
  const status = $("#search-status");
  const rows = $("#list-items");
  const template = $("#list-row");
  if (!form || !search || !rows || !template) return;

  // --- the list ---------------------------------------------------------------------
  function listed() {
    return [...rows.querySelectorAll(".list-row")].map((row) => ({
      id: row.dataset.id, name: row.dataset.name, size: row.dataset.size,
      qty: row.querySelector("input[name=qty]").value,
    }));
  }

  function save() {
    const items = listed();
    try { localStorage.setItem(STORE_KEY, JSON.stringify(items)); } catch (e) { /* private mode */ }
    const count = items.length ? `(${items.length})` : "";
    $("#list-count").textContent = count;
    $("#list-empty").hidden = items.length > 0;
  }

  function rowFor(id) {
    return [...rows.querySelectorAll(".list-row")].find((row) => row.dataset.id === id);
  }

  function addRow(item, qty) {
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.id = item.id;
    row.dataset.name = item.name;
    row.dataset.size = item.size || "";
    row.querySelector("input[name=item]").value = item.id;
    row.querySelector(".list-name").firstChild.textContent = item.name + " ";
    row.querySelector(".size").textContent = item.size || "";
    row.querySelector("input[name=qty]").value = clamp(qty);
    row.querySelector("input[name=qty]").setAttribute("aria-label", `Quantity of ${item.name}`);
    row.querySelector("[data-step='-1']").setAttribute("aria-label", `One less ${item.name}`);
    row.querySelector("[data-step='1']").setAttribute("aria-label", `One more ${item.name}`);
    row.querySelector(".remove").setAttribute("aria-label", `Remove ${item.name}`);
    rows.append(row);
    return row;
  }

  function add(item) {
    const existing = rowFor(item.id);
    if (existing) {
      const qty = existing.querySelector("input[name=qty]");
      qty.value = clamp(Number(qty.value) + 1);
      status.textContent = `${item.name}: ${qty.value} on your list.`;
    } else {
      addRow(item, 1);
      status.textContent = `${item.name} added to your list.`;
    }
    save();
  }

  function clamp(value) {
    const n = Math.round(Number(value));
    return Number.isFinite(n) ? Math.min(MAX_QTY, Math.max(1, n)) : 1;
  }

  // Rows the server rendered (from the URL) carry their names in the markup.
  for (const row of rows.querySelectorAll(".list-row")) {
    row.dataset.name = row.querySelector(".list-name").firstChild.textContent.trim();
    row.dataset.size = row.querySelector(".size").textContent.trim();
  }
  if (!rows.children.length) {  // no list in the URL: bring back the one from last time
    try {
      for (const item of JSON.parse(localStorage.getItem(STORE_KEY) || "[]")) {
        if (item && item.id && item.name) addRow(item, item.qty);
      }
    } catch (e) { /* a damaged entry: start afresh */ }
  }
  save();

  rows.addEventListener("click", (event) => {
    const row = event.target.closest(".list-row");
    if (!row) return;
    const step = event.target.closest(".step");
    if (step) {
      const qty = row.querySelector("input[name=qty]");
      qty.value = clamp(Number(qty.value) + Number(step.dataset.step));
      save();
    } else if (event.target.closest(".remove")) {
      const next = row.nextElementSibling || row.previousElementSibling;
      status.textContent = `${row.dataset.name} removed.`;
      row.remove();
      save();
      (next ? next.querySelector(".remove") : search).focus();  // keep the keyboard's place
    }
  });
  rows.addEventListener("change", (event) => {
    if (event.target.name === "qty") { event.target.value = clamp(event.target.value); save(); }
  });

  document.addEventListener("click", (event) => {
    const deal = event.target.closest(".add-deal");
    if (deal) add({ id: deal.dataset.id, name: deal.dataset.name, size: deal.dataset.size });
    const swap = event.target.closest(".swap");
    if (swap) {
      const row = rowFor(swap.dataset.replaces);
      const item = { id: swap.dataset.id, name: swap.dataset.name, size: swap.dataset.size };
      if (row && !rowFor(item.id)) {
        const qty = row.querySelector("input[name=qty]").value;
        row.replaceWith(addRow(item, qty));
      } else if (!row) {
        add(item);
      }
      save();
      status.textContent = `${item.name} is on your list instead.`;
      swap.disabled = true;
    }
  });

  // --- search as you type -------------------------------------------------------------
  let timer = null;
  let pending = null;

  function show(items, query) {
    results.replaceChildren(...items.map((item) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "result";
      button.dataset.item = JSON.stringify({ id: item.id, name: item.name, size: item.size });
      const label = document.createElement("span");
      label.className = "result-what";
      const name = document.createElement("span");
      name.textContent = item.label;
      label.append(name);
      const price = document.createElement("span");
      price.className = "result-price";
      if (item.price) {
        const amount = document.createElement("strong");
        amount.textContent = item.price;
        price.append(amount, ` ${item.per_unit ? `(${item.per_unit}) ` : ""}at ${item.store}`);
        if (item.on_sale) {
          const badge = document.createElement("span");
          badge.className = "badge sale";
          badge.textContent = "Sale";
          price.append(" ", badge, ` was ${item.regular_price}`);
        }
      } else {
        price.textContent = "not sold near you";
      }
      label.append(price);
      const action = document.createElement("span");
      action.className = "add";
      action.textContent = "Add";
      action.setAttribute("aria-hidden", "true");
      button.setAttribute("aria-label", `Add ${item.label}` + (item.price
        ? `, ${item.price} at ${item.store}${item.on_sale ? ", on sale" : ""}` : ""));
      button.append(label, action);
      li.append(button);
      return li;
    }));
    status.textContent = items.length
      ? `${items.length} item${items.length > 1 ? "s" : ""} found for “${query}”.`
      : `Nothing found for “${query}”.`;
  }

  async function lookup(query) {
    if (pending) pending.abort();  // an answer to an older query must not overwrite this one
    pending = new AbortController();
    try {
      // Where the shopper is, as the form says, so the prices are the ones near them.
      const where = new URLSearchParams({ q: query });
      for (const field of ["city", "lat", "lon", "radius_km"]) {
        const value = form.elements[field] && form.elements[field].value;
        if (value) where.set(field, value);
      }
      const response = await fetch(`/items?${where}`,
                                   { signal: pending.signal, headers: { Accept: "application/json" } });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || "The search is unavailable right now.");
      show(body.items, query);
    } catch (error) {
      if (error.name === "AbortError") return;
      results.replaceChildren();
      status.textContent = error instanceof SyntaxError
        ? "The search is unavailable right now. Please try again." : error.message;
    }
  }

  search.addEventListener("input", () => {
    clearTimeout(timer);
    const query = search.value.trim();
    if (query.length < 2) { results.replaceChildren(); status.textContent = ""; return; }
    timer = setTimeout(() => lookup(query), DEBOUNCE_MS);
  });
  search.addEventListener("keydown", (event) => {
    const first = results.querySelector(".result");
    if (event.key === "Enter") {  // Enter adds the first match instead of sending the form
      event.preventDefault();
      if (first) first.click();
    } else if (event.key === "ArrowDown" && first) {
      event.preventDefault();
      first.focus();
    }
  });
  results.addEventListener("click", (event) => {
    const button = event.target.closest(".result");
    if (button) add(JSON.parse(button.dataset.item));
  });
  results.addEventListener("keydown", (event) => {
    const item = event.target.closest("li");
    if (!item) return;
    const target = event.key === "ArrowDown" ? item.nextElementSibling
      : event.key === "ArrowUp" ? item.previousElementSibling : null;
    if (event.key === "ArrowUp" && !target) { event.preventDefault(); search.focus(); }
    if (target) { event.preventDefault(); target.querySelector("button").focus(); }
  });

  // --- where the shopper is -------------------------------------------------------------
  const lat = $("#lat");
  const lon = $("#lon");
  $("#city").addEventListener("change", () => {  // a new city: its own place and reach
    lat.value = "";
    lon.value = "";
    $("#radius").value = "";
  });
  const locate = $("#locate");
  if (navigator.geolocation && locate) {
    locate.hidden = false;
    // A first visit (nothing chosen yet) starts where the shopper is, if the browser is
    // already allowed to say; otherwise the server's default (the city with most stores).
    if (form.hasAttribute("data-first-visit") && navigator.permissions) {
      navigator.permissions.query({ name: "geolocation" }).then((permission) => {
        if (permission.state === "granted") locate.click();
      }, () => {});
    }
    locate.addEventListener("click", () => {
      locate.disabled = true;
      navigator.geolocation.getCurrentPosition((position) => {
        lat.value = position.coords.latitude.toFixed(4);
        lon.value = position.coords.longitude.toFixed(4);
        form.requestSubmit();
      }, () => {
        locate.disabled = false;
        status.textContent = "";
        lat.focus();
        lat.setAttribute("placeholder", "location not shared");
      });
    });
  }

  form.addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.id === "find" && !rows.children.length) {
      event.preventDefault();  // nothing to look up: say so instead of reloading the page
      status.textContent = "Add an item to your list first.";
      search.focus();
    }
  });

  const answer = $("#answer");
  if (answer) answer.focus();  // after "Find the best stores", start at the answer
});
