// One rollout (#/rollouts/<id>, #/rollouts/<id>/clusters/<cluster>): what it rolls out and why,
// when it can finish at the earliest (recomputed on every refresh from what is left), the
// actions the user may take, its waves as a timeline with their gates and times, its
// clusters grouped by site and coloured by state, and its decisions with who made them.
// Refreshed every 2 s while it is not final; the clusters' tiles are updated in place, so a
// rollout of thousands of clusters stays quick.

import { get, path } from "../api.js";
import { h, replace } from "../dom.js";
import { between, plural, shortRevision, showSeconds, showTime } from "../format.js";
import { CLUSTER_STATES, isFinal, tone } from "../states.js";
import { etaSummary, waveEta } from "../eta.js";
import { actionBar, actionsFor } from "../actions.js";
import { badge, problem, rolloutLink, stateBar, table } from "../widgets.js";
import { ClusterGrid } from "./clusters.js";

export function mount(main, params, app) {
  const id = params.get("id");
  const view = {
    id,
    selected: params.get("cluster"),
    reveal: Boolean(params.get("cluster")),
    rollout: null,
    timeline: [],
    actionsKey: null,
  };
  const parts = {
    head: h("div", null, h("p", { class: "quiet" }, "Loading the rollout…")),
    actions: h("div", { class: "action-area" }),
    outcome: h("div", { class: "outcome", "aria-live": "polite" }),
    waves: h("ol", { class: "waves" }),
    detail: h("div", { class: "cluster-detail-area" }),
    summary: h("div"),
    attention: h("div"),
    timeline: h("div"),
  };
  const grid = new ClusterGrid(id);
  replace(
    main,
    h("p", { class: "crumbs" }, h("a", { href: "#/rollouts" }, "Rollouts"), " / ", id),
    parts.head,
    parts.actions,
    parts.outcome,
    h("section", { "aria-labelledby": "waves-title" }, h("h2", { id: "waves-title" }, "Waves"), parts.waves),
    h(
      "section",
      { "aria-labelledby": "clusters-title" },
      h("h2", { id: "clusters-title" }, "Clusters by site"),
      parts.summary,
      parts.detail,
      grid.element,
      parts.attention,
    ),
    h("section", { "aria-labelledby": "timeline-title" }, h("h2", { id: "timeline-title" }, "Decisions"), parts.timeline),
  );

  let poller = null;
  const refresh = async () => {
    let rollout;
    let timeline;
    try {
      [rollout, timeline] = await Promise.all([
        get(`/rollouts/${path(id)}`),
        get(`/rollouts/${path(id)}/timeline`),
      ]);
    } catch (error) {
      if (!view.rollout || error.login) replace(parts.head, problem(error, "Reading the rollout failed"));
      else app.status(`updating failed: ${error.message}`);
      return !error.login && error.status !== 404 && error.status !== 403;
    }
    view.rollout = rollout;
    view.timeline = timeline.timeline;
    render(view, parts, grid, app, () => poller.now());
    app.status(isFinal(rollout.state) ? "" : `live: updated ${showTime(new Date().toISOString())}`);
    return !isFinal(rollout.state);
  };
  poller = app.poll(refresh);
  return {
    stop: () => poller.stop(),
    /** Another cluster of the same rollout: no reload, only the detail changes. */
    update(next) {
      if (next.get("id") !== id) return false;
      view.selected = next.get("cluster");
      if (view.rollout) showDetail(view, parts, grid, true);
      return true;
    },
  };
}

function render(view, parts, grid, app, refreshNow) {
  const rollout = view.rollout;
  replace(parts.head, head(rollout));
  const actions = actionsFor(rollout, app.me);
  const key = actions.map((a) => a.text).join("|");
  if (key !== view.actionsKey) {
    view.actionsKey = key;
    replace(parts.actions, actionBar(rollout, actions, parts.outcome, refreshNow));
  }
  const events = waveEvents(view.timeline);
  const etaWave = (name) => (rollout.eta ? rollout.eta.waves.find((e) => e.name === name) : null);
  replace(parts.waves, rollout.waves.map((w, i) => waveCard(w, i, events.get(w.name) || {}, etaWave(w.name))));
  const clusters = rollout.waves.flatMap((w) => w.clusters.map((c) => ({ ...c, wave: w.name })));
  const counts = {};
  for (const c of clusters) counts[c.state] = (counts[c.state] || 0) + 1;
  replace(
    parts.summary,
    clusters.length
      ? [h("p", null, plural(clusters.length, "cluster")), stateBar(counts, CLUSTER_STATES)]
      : h(
          "p",
          { class: "notice-line" },
          isFinal(rollout.state)
            ? "A later rollout of the track has taken these clusters over: each wave above shows what it counted when it ended; the fleet's clusters are on the later rollout's page."
            : "No cluster planned yet.",
        ),
  );
  grid.show(clusters);
  replace(parts.attention, attention(view.id, clusters));
  replace(parts.timeline, decisions(view.timeline));
  showDetail(view, parts, grid, false);
}

function head(rollout) {
  const trigger = rollout.trigger || {};
  return [
    h("h1", { tabindex: "-1" }, "Rollout ", h("span", { class: "id" }, rollout.id), " ", badge(rollout.state, "big")),
    h(
      "dl",
      { class: "facts" },
      fact("Track", h("a", { href: `#/rollouts?track=${encodeURIComponent(rollout.track)}` }, rollout.track)),
      fact(
        "Revision",
        h("code", null, shortRevision(rollout.revision)),
        rollout.previousRevision ? [" (last good before: ", h("code", null, shortRevision(rollout.previousRevision)), ")"] : null,
      ),
      fact("Why", h("span", { class: "reason" }, rollout.reason), rollout.message ? ` — ${rollout.message}` : ""),
      fact(
        "Started by",
        `${trigger.actor || "–"} (${trigger.kind || "–"})`,
        trigger.undoes ? [", undoing ", rolloutLink(trigger.undoes)] : null,
      ),
      fact("Started", showTime(rollout.createdAt)),
      fact(isFinal(rollout.state) ? "Ended" : "Updated", showTime(rollout.updatedAt), ` (${between(rollout.createdAt, rollout.updatedAt)})`),
      rollout.clusters ? fact("Catch-up of", plural(rollout.clusters.length, "cluster")) : null,
      rollout.eta ? fact("ETA", etaSummary(rollout.eta)) : null,
      rollout.alerts && rollout.alerts.length
        ? fact(
            "Alerts firing",
            rollout.alerts.map((a, i) => [i ? "; " : "", h("strong", null, a.rule), ` (${a.severity}) on ${a.clusters.join(", ")}`]),
          )
        : null,
      rollout.windowsOverride
        ? fact(
            "Windows overridden",
            `by ${rollout.windowsOverride.by} at ${showTime(rollout.windowsOverride.at)}: ${rollout.windowsOverride.reason}`,
          )
        : null,
    ),
  ];
}

function fact(term, ...details) {
  return [h("dt", null, term), h("dd", null, details)];
}

/** Per wave, from the decisions: when it started, waited, was approved, soaked, ended. */
function waveEvents(timeline) {
  const events = new Map();
  for (const entry of timeline) {
    const wave = entry.data && entry.data.wave;
    if (!wave) continue;
    const e = events.get(wave) || {};
    switch (entry.reason) {
      case "WaveStarted":
        e.started = e.started || entry.time;
        break;
      case "AwaitingApproval":
        e.awaiting = entry.time;
        break;
      case "Approved":
        e.approved = entry;
        break;
      case "ApprovalTimedOut":
        e.timedOut = entry.time;
        break;
      case "Soaking":
        e.soaking = entry.time;
        break;
      case "WaveSucceeded":
      case "FailureBudgetExceeded":
      case "RolledBack":
        e.ended = entry.time;
        e.verdict = entry.reason;
        break;
      default:
        break;
    }
    events.set(wave, e);
  }
  return events;
}

function waveCard(wave, index, e, eta) {
  const gates = wave.gates;
  const counts = wave.clusters.length ? {} : { ...wave.counts };
  for (const c of wave.clusters) counts[c.state] = (counts[c.state] || 0) + 1;
  const items = [];
  if (gates && gates.approval) {
    let approval = "required";
    if (e.approved) approval = `approved by ${approver(e.approved)} at ${showTime(e.approved.time)}`;
    else if (e.timedOut) approval = `timed out at ${showTime(e.timedOut)}`;
    else if (e.awaiting) approval = `waiting since ${showTime(e.awaiting)}`;
    items.push(gate("Approval", approval));
  }
  if (gates && gates.soakSeconds > 0) {
    items.push(gate("Soak", `${showSeconds(gates.soakSeconds)}${e.soaking ? `, from ${showTime(e.soaking)}` : ""}`));
  }
  if (gates) items.push(gate("Failures allowed", String(gates.maxFailures)));
  return h(
    "li",
    { class: `wave card tone-edge-${tone(wave.state)}`, dataset: { wave: wave.name, state: wave.state } },
    h("h3", null, `${index + 1}. ${wave.name} `, badge(wave.state)),
    h(
      "p",
      { class: "quiet" },
      plural(Object.values(counts).reduce((a, b) => a + b, 0), "cluster"),
      wave.maxInFlight !== null ? `, ≤ ${wave.maxInFlight} in flight` : "",
      wave.maxPerSite ? `, ≤ ${wave.maxPerSite} per site` : "",
    ),
    items.length ? h("ul", { class: "gates", "aria-label": `Gates of wave ${wave.name}` }, items) : null,
    h(
      "p",
      { class: "times" },
      e.started ? `Started ${showTime(e.started)}` : "Not started",
      e.ended ? `; ended ${showTime(e.ended)} after ${between(e.started, e.ended)}` : "",
    ),
    wave.message ? h("p", { class: "message" }, wave.message) : null,
    eta && eta.phase !== "done" ? waveEta(eta) : null,
    stateBar(counts, CLUSTER_STATES),
  );
}

/** Who approved: the rollout records the approver in the decision's message. */
function approver(entry) {
  const named = /approved by (.+)$/.exec(entry.message || "");
  return named ? named[1] : entry.actor;
}

function gate(name, text) {
  return h("li", null, h("strong", null, `${name}: `), text);
}

const CALM = new Set(["Healthy", "Pending"]);
const ATTENTION_ROWS = 100;

function attention(id, clusters) {
  const rows = clusters.filter((c) => !CALM.has(c.state));
  if (!rows.length) return null;
  const shown = rows.slice(0, ATTENTION_ROWS).map((c) =>
    h(
      "tr",
      null,
      h("td", null, h("a", { href: clusterHref(id, c.name) }, c.name)),
      h("td", null, c.wave),
      h("td", null, badge(c.state)),
      h("td", null, c.reason || "–"),
      h("td", null, c.message || ""),
    ),
  );
  const more = rows.length - shown.length;
  return [
    table(
      `Clusters not healthy or pending (${rows.length})`,
      ["Cluster", "Wave", "State", "Reason", "Message"],
      shown,
      "compact",
    ),
    more > 0 ? h("p", { class: "quiet" }, `and ${more} more`) : null,
  ];
}

export function clusterHref(id, name) {
  return `#/rollouts/${encodeURIComponent(id)}/clusters/${encodeURIComponent(name)}`;
}

function showDetail(view, parts, grid, focus) {
  const wanted = view.selected;
  grid.select(wanted);
  if (!wanted) {
    replace(parts.detail);
    return;
  }
  const cluster = view.rollout.waves
    .flatMap((w) => w.clusters.map((c) => ({ ...c, wave: w.name })))
    .find((c) => c.name === wanted || c.id === wanted);
  if (!cluster) {
    replace(parts.detail, h("p", { class: "error", role: "alert" }, `No cluster ${wanted} in this rollout.`));
    return;
  }
  const title = h("h3", { id: "cluster-detail-title", tabindex: "-1" }, cluster.name, " ", badge(cluster.state));
  replace(
    parts.detail,
    h(
      "section",
      { class: "card cluster-detail", "aria-labelledby": "cluster-detail-title" },
      title,
      h(
        "dl",
        { class: "facts" },
        fact("Wave", cluster.wave),
        fact("Site", cluster.site || "–"),
        fact("Reason", cluster.reason || "–"),
        fact("Message", cluster.message || "–"),
        fact("Revision written", h("code", null, shortRevision(cluster.revision))),
        fact("Written", showTime(cluster.writtenAt)),
        fact("Judged", showTime(cluster.settledAt)),
        fact("Azure id", h("code", { class: "wrap" }, cluster.id)),
      ),
      h("p", null, h("a", { href: `#/rollouts/${encodeURIComponent(view.id)}` }, "Close")),
    ),
  );
  if (focus || view.reveal) {
    view.reveal = false;
    title.focus();
  }
}

function decisions(timeline) {
  if (!timeline.length) return h("p", { class: "quiet" }, "No decision recorded yet.");
  return table(
    `${plural(timeline.length, "decision")}, oldest first`,
    ["Time", "Who", "Reason", "What"],
    timeline.map((e) =>
      h(
        "tr",
        null,
        h("td", { class: "nowrap" }, showTime(e.time)),
        h("td", null, e.actor),
        h("td", null, e.reason),
        h("td", null, e.message),
      ),
    ),
    "compact",
  );
}
