// The plan preview (#/tracks/<name>/plan): the waves a rollout of the track would run now,
// each wave's clusters in write order with its window and rounds, when each wave and batch
// could start and finish at the earliest, and the clusters left out and why. Nothing is
// written.

import { path, post } from "../api.js";
import { h, replace } from "../dom.js";
import { batchList, etaSummary, waveEta } from "../eta.js";
import { plural, shortRevision } from "../format.js";
import { problem, table } from "../widgets.js";

export function mount(main, params) {
  const track = params.get("track");
  const body = h("div", null, h("p", { class: "quiet" }, "Planning…"));
  replace(
    main,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Tracks"), " / ", track),
    h("h1", { tabindex: "-1" }, `Plan preview: ${track}`),
    h(
      "p",
      { class: "lede" },
      "What a rollout of this track would do now, from the fleet as Azure shows it. Nothing is written.",
    ),
    body,
  );
  post(`/tracks/${path(track)}/plan`, {}).then(
    (plan) => replace(body, render(plan)),
    (error) => replace(body, problem(error, "Planning failed")),
  );
  return { stop() {} };
}

function render(plan) {
  const clusters = plan.waves.reduce((sum, w) => sum + w.clusters.length, 0);
  return [
    h(
      "p",
      null,
      `Revision `,
      h("code", null, shortRevision(plan.revision)),
      `: ${plural(plan.waves.length, "wave")}, ${plural(clusters, "cluster")} to write, `,
      `${plan.excluded.length} excluded, ${plan.unassigned.length} in no wave, `,
      `${plan.offline.length} offline.`,
    ),
    etaSummary(plan.eta),
    h("ol", { class: "plan-waves" }, plan.waves.map((w, i) => wave(w, i, etaOf(plan, w.name)))),
    left(plan),
  ];
}

function etaOf(plan, name) {
  return plan.eta ? plan.eta.waves.find((e) => e.name === name) : null;
}

function wave(w, index, eta) {
  const position = new Map(w.clusters.map((c, i) => [c.id, i + 1]));
  return h(
    "li",
    { class: "card" },
    h("h2", null, `Wave ${index + 1}: ${w.name}`),
    h(
      "p",
      null,
      `${plural(w.clusters.length, "cluster")}; at most ${w.maxInFlight} in flight`,
      w.maxPerSite ? `, ${w.maxPerSite} per site` : "",
      `; ${plural(w.rounds.length, "round")}.`,
    ),
    waveEta(eta),
    batchList(eta),
    w.clusters.length
      ? table(
          `Clusters of wave ${w.name} in write order`,
          ["#", "Cluster", "Site", "Round", "Why here"],
          w.clusters.map((c) =>
            h(
              "tr",
              null,
              h("td", null, String(position.get(c.id))),
              h("td", null, c.name, c.offline ? h("span", { class: "badge tone-muted" }, "Offline") : null),
              h("td", null, c.site || "–"),
              h("td", null, String(roundOf(w.rounds, c.id))),
              h("td", null, c.reason),
            ),
          ),
          "compact",
        )
      : h("p", { class: "quiet" }, "No cluster in this wave."),
  );
}

function roundOf(rounds, id) {
  const at = rounds.findIndex((round) => round.includes(id));
  return at < 0 ? "–" : at + 1;
}

function left(plan) {
  const name = (id) => id.split("/").pop();
  const rows = [
    ...plan.excluded.map((e) => h("tr", null, h("td", null, name(e.id)), h("td", null, "Excluded"), h("td", null, e.reason))),
    ...plan.unassigned.map((id) =>
      h("tr", null, h("td", null, name(id)), h("td", null, "In no wave"), h("td", null, "no wave's selector takes it")),
    ),
  ];
  return h(
    "section",
    { "aria-labelledby": "left-out" },
    h("h2", { id: "left-out" }, "Left out"),
    rows.length
      ? table("Clusters of the fleet no wave writes, and why", ["Cluster", "How", "Why"], rows, "compact")
      : h("p", null, "Every cluster of the fleet is in a wave."),
  );
}
