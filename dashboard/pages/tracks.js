// The overview (#/): each track with its current and last good revision, its active rollout
// and its fleet by state. Refreshed every 2 s while a rollout runs.

import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { plural, shortRevision, showTime } from "../format.js";
import { CLUSTER_STATES, isFinal } from "../states.js";
import { badge, problem, rolloutLink, stateBar } from "../widgets.js";

export function mount(main, _params, app) {
  const body = h("div", { class: "tracks" }, h("p", { class: "quiet" }, "Loading tracks…"));
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Tracks"),
    h("p", { class: "lede" }, "Each track rolls one Flux configuration out to its fleet, wave by wave."),
    body,
  );
  return app.poll(async () => {
    let answer;
    try {
      answer = await get("/tracks");
    } catch (error) {
      replace(body, problem(error, "Reading the tracks failed"));
      return !error.login;
    }
    replace(body, answer.tracks.length ? answer.tracks.map(card) : empty());
    return answer.tracks.some((t) => t.activeRollout && !isFinal(t.activeRollout.state));
  });
}

function empty() {
  return h("p", null, "No track yet: an Admin creates one with PUT /api/tracks/{name} (docs/api.md).");
}

function card(track) {
  const name = encodeURIComponent(track.name);
  const active = track.activeRollout;
  const latest = track.latestRollout;
  return h(
    "section",
    { class: "card track", "aria-labelledby": `track-${track.name}` },
    h("h2", { id: `track-${track.name}` }, track.name),
    h(
      "dl",
      { class: "facts" },
      fact("Current revision", h("code", null, shortRevision(track.currentRevision))),
      fact("Last good revision", h("code", null, shortRevision(track.lastGoodRevision))),
      fact(
        "Active rollout",
        active ? [rolloutLink(active.id), " ", badge(active.state)] : "none",
      ),
      latest && (!active || latest.id !== active.id)
        ? fact("Latest rollout", [rolloutLink(latest.id), " ", badge(latest.state), ` ${showTime(latest.updatedAt)}`])
        : null,
      fact("Fleet", plural(track.fleet.clusters, "cluster")),
      fact("Running", applied(track)),
    ),
    h("h3", { class: "small" }, "Clusters by state in their latest rollout"),
    stateBar(track.fleet.byState, CLUSTER_STATES),
    h(
      "p",
      { class: "links" },
      h("a", { href: `#/rollouts?track=${name}` }, `Rollouts of ${track.name}`),
      h("a", { href: `#/tracks/${name}/plan` }, `Plan preview of ${track.name}`),
    ),
  );
}

/** Which revisions the fleet runs, as Flux last reported them. */
function applied(track) {
  const entries = Object.entries(track.fleet.byAppliedRevision || {});
  if (!entries.length) return "–";
  return h(
    "ul",
    { class: "inline" },
    entries.map(([revision, count]) =>
      h(
        "li",
        null,
        revision ? h("code", null, shortRevision(revision)) : "nothing yet",
        ` on ${plural(count, "cluster")}`,
        revision && revision === track.lastGoodRevision ? " (last good)" : "",
      ),
    ),
  );
}

function fact(term, ...details) {
  return [h("dt", null, term), h("dd", null, details)];
}
