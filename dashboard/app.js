// The dashboard: hash routes, who is signed in, and polling that never overlaps itself.
//
//   #/                                   the tracks
//   #/rollouts?track=&state=             the rollouts, filtered
//   #/rollouts/<id>                      a rollout
//   #/rollouts/<id>/clusters/<cluster>   a rollout, with one cluster's detail
//   #/tracks/<name>/plan                 a track's plan preview

import { ApiError, get } from "./api.js";
import { h, replace } from "./dom.js";
import * as plan from "./pages/plan.js";
import * as rollout from "./pages/rollout.js";
import * as rollouts from "./pages/rollouts.js";
import * as tracks from "./pages/tracks.js";
import { problem } from "./widgets.js";

const POLL_MS = 2000;

const ROUTES = [
  [/^\/?$/, tracks, []],
  [/^\/tracks\/?$/, tracks, []],
  [/^\/rollouts\/?$/, rollouts, []],
  [/^\/rollouts\/([^/]+)\/?$/, rollout, ["id"]],
  [/^\/rollouts\/([^/]+)\/clusters\/([^/]+)\/?$/, rollout, ["id", "cluster"]],
  [/^\/tracks\/([^/]+)\/plan\/?$/, plan, ["track"]],
];

const app = {
  me: null,
  view: null,
  page: null,
  statusLine: null,

  /** Run `step` now and every 2 s after the previous run ended, while it returns true. */
  poll(step) {
    let timer = null;
    let stopped = false;
    let running = false;
    const run = async () => {
      if (stopped || running) return;
      running = true;
      clearTimeout(timer);
      let again = false;
      try {
        again = await step();
      } finally {
        running = false;
      }
      if (again && !stopped) timer = setTimeout(run, POLL_MS);
    };
    run();
    return {
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
      now: () => {
        if (!stopped) {
          clearTimeout(timer);
          run();
        }
      },
    };
  },

  status(text) {
    if (this.statusLine) this.statusLine.textContent = text;
  },

  _names: null,
  /** The tracks' names (for the filters), read once. */
  trackNames() {
    this._names =
      this._names || get("/tracks").then((a) => a.tracks.map((t) => t.name), () => []);
    return this._names;
  },
};

function match(hash) {
  const [where, search] = hash.replace(/^#/, "").split("?");
  for (const [pattern, page, names] of ROUTES) {
    const found = pattern.exec(where);
    if (found) {
      const params = new URLSearchParams(search || "");
      names.forEach((name, i) => params.set(name, decodeURIComponent(found[i + 1])));
      return { page, params };
    }
  }
  return null;
}

function route() {
  const hash = location.hash || "#/";
  if (!hash.startsWith("#/")) return; // an anchor on the page (the skip link)
  const main = document.getElementById("main");
  const found = match(hash);
  highlight(hash);
  if (found && app.view && app.page === found.page && app.view.update && app.view.update(found.params)) {
    return;
  }
  if (app.view) app.view.stop();
  app.view = null;
  app.page = null;
  app.status("");
  if (!found) {
    replace(main, h("h1", { tabindex: "-1" }, "Not found"), h("p", null, h("a", { href: "#/" }, "Back to the tracks")));
    return;
  }
  app.page = found.page;
  app.view = found.page.mount(main, found.params, app);
  const heading = main.querySelector("h1");
  if (heading && document.activeElement !== document.body) heading.focus({ preventScroll: true });
}

function highlight(hash) {
  for (const link of document.querySelectorAll("nav a")) {
    const target = link.getAttribute("href");
    const current = target === "#/" ? hash === "#/" || hash.startsWith("#/tracks") : hash.startsWith(target);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function signedIn(me) {
  const roles = me.roles.length ? me.roles.map((r) => r.replace(/^arcwave\./, "")).join(", ") : "no arcwave role";
  replace(
    document.getElementById("who"),
    h("span", null, h("span", { class: "visually-hidden" }, "Signed in as "), me.name),
    h("span", { class: "roles" }, roles),
    h("a", { href: me.logout }, "Sign out"),
  );
}

async function start() {
  app.statusLine = document.getElementById("status");
  try {
    app.me = await get("/me");
  } catch (error) {
    replace(document.getElementById("main"), problem(error, "Signing in failed"));
    if (!(error instanceof ApiError)) console.warn(error);
    return;
  }
  signedIn(app.me);
  window.addEventListener("hashchange", route);
  route();
}

start();
