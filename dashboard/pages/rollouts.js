// The rollouts (#/rollouts?track=&state=): newest first, filtered by track and state.

import { get, query } from "../api.js";
import { h, replace } from "../dom.js";
import { between, shortRevision, showTime } from "../format.js";
import { ROLLOUT_STATES, isFinal, label } from "../states.js";
import { badge, problem, rolloutLink, table } from "../widgets.js";

export function mount(main, params, app) {
  const track = params.get("track") || "";
  const state = params.get("state") || "";
  const body = h("div", null, h("p", { class: "quiet" }, "Loading rollouts…"));
  replace(main, h("h1", { tabindex: "-1" }, "Rollouts"), filters(track, state, app), body);
  return app.poll(async () => {
    let answer;
    try {
      answer = await get(`/rollouts${query({ track, state })}`);
    } catch (error) {
      replace(body, problem(error, "Reading the rollouts failed"));
      return !error.login;
    }
    const rows = answer.rollouts.map((r) =>
      h(
        "tr",
        null,
        h("td", null, rolloutLink(r.id)),
        h("td", null, r.track),
        h("td", null, h("code", null, shortRevision(r.revision))),
        h("td", null, badge(r.state)),
        h("td", null, showTime(r.createdAt)),
        h("td", null, isFinal(r.state) ? between(r.createdAt, r.updatedAt) : "running"),
      ),
    );
    const what = [track && `track ${track}`, state && label(state)].filter(Boolean).join(", ");
    replace(
      body,
      rows.length
        ? table(
            `${rows.length} rollout${rows.length === 1 ? "" : "s"}${what ? ` (${what})` : ""}, newest first`,
            ["Rollout", "Track", "Revision", "State", "Started", "Took"],
            rows,
          )
        : h("p", null, "No rollout matches."),
    );
    return answer.rollouts.some((r) => !isFinal(r.state));
  });
}

function filters(track, state, app) {
  const trackInput = h("input", {
    id: "filter-track",
    name: "track",
    value: track,
    list: "track-names",
    autocomplete: "off",
  });
  const names = h("datalist", { id: "track-names" });
  app.trackNames().then((all) => replace(names, all.map((n) => h("option", { value: n }))));
  const stateSelect = h(
    "select",
    { id: "filter-state", name: "state" },
    h("option", { value: "" }, "any state"),
    ROLLOUT_STATES.map((s) => h("option", { value: s, selected: s === state }, label(s))),
  );
  const form = h(
    "form",
    {
      class: "filters",
      "aria-label": "Filter rollouts",
      on: {
        submit: (event) => {
          event.preventDefault();
          location.hash = `#/rollouts${query({ track: trackInput.value.trim(), state: stateSelect.value })}`;
        },
      },
    },
    h("label", { for: "filter-track" }, "Track"),
    trackInput,
    names,
    h("label", { for: "filter-state" }, "State"),
    stateSelect,
    h("button", { type: "submit" }, "Filter"),
    track || state ? h("a", { href: "#/rollouts" }, "Clear filters") : null,
  );
  stateSelect.addEventListener("change", () => form.requestSubmit());
  return form;
}
