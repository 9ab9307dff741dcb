// Pieces several pages show: state badges, a fleet's states as a bar with counts, tables,
// links, and what a page says when the app refuses or cannot be reached.

import { h } from "./dom.js";
import { label, tone } from "./states.js";

/** A state as a coloured badge with its words. */
export function badge(state, extra = "") {
  return h("span", { class: `badge tone-${tone(state)} ${extra}`.trim() }, label(state));
}

/** Counts by state as a bar (colour) with a legend (words and numbers). */
export function stateBar(byState, order) {
  const states = Object.keys(byState).sort((a, b) => rank(order, a) - rank(order, b));
  const total = states.reduce((sum, s) => sum + byState[s], 0);
  if (!total) return h("p", { class: "quiet" }, "no clusters yet");
  return h(
    "div",
    { class: "statebar" },
    h(
      "div",
      { class: "bar", "aria-hidden": "true" },
      states.map((s) =>
        h("span", { class: `seg tone-${tone(s)}`, style: { flexGrow: String(byState[s]) } }),
      ),
    ),
    h(
      "ul",
      { class: "legend" },
      states.map((s) =>
        h(
          "li",
          null,
          h("span", { class: `dot tone-${tone(s)}`, "aria-hidden": "true" }),
          `${label(s)} ${byState[s]}`,
        ),
      ),
    ),
  );
}

function rank(order, state) {
  const at = order.indexOf(state);
  return at < 0 ? order.length : at;
}

/** A table with a caption, column headings and rows of cells. */
export function table(caption, headings, rows, cls = "") {
  return h(
    "table",
    { class: `grid ${cls}`.trim() },
    h("caption", null, caption),
    h("thead", null, h("tr", null, headings.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", null, rows),
  );
}

/** What the page shows when the app refused or could not be reached: its words, as they are. */
export function problem(error, what) {
  if (error && error.login) {
    return h(
      "section",
      { class: "notice", "aria-labelledby": "signin-title" },
      h("h1", { id: "signin-title" }, "Sign in"),
      h("p", null, "The dashboard shows what your arcwave roles let you see and do."),
      h(
        "p",
        null,
        h("a", { class: "button primary", href: error.login }, "Sign in with Microsoft Entra ID"),
      ),
    );
  }
  const status = error && error.status ? ` (HTTP ${error.status})` : "";
  return h(
    "div",
    { class: "error", role: "alert" },
    h("strong", null, `${what}${status}: `),
    (error && error.message) || "the app cannot be reached",
  );
}

export const rolloutLink = (id) => h("a", { href: `#/rollouts/${encodeURIComponent(id)}` }, id);
